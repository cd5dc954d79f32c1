// Agora: run in the head, before the first paint. Marks the page as able to run GOV.UK
// Frontend's module (agora.js) so that a phone's menus start folded rather than flashing
// open while the module loads. Browsers without modules keep every menu open.
if ("noModule" in HTMLScriptElement.prototype) {
  document.documentElement.classList.add("js-enabled", "govuk-frontend-supported");
}
