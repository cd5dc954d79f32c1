// A voting card's QR code carries the code in the address's fragment (#code=…), which the
// browser never sends to the server: copy it into the page's code field, then take it out of
// the address bar. Without this script the holder types the code printed on the card.
(function () {
  "use strict";
  var match = /(?:^#|&)code=([A-Za-z0-9-]+)/.exec(window.location.hash);
  if (!match) {
    return;
  }
  var field = document.getElementById("code");
  if (field && !field.value) {
    field.value = match[1];
  }
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
})();
