// Agora: starts GOV.UK Frontend's components (the phone menu's toggle, the error summary's
// focus, the notification banner). Served from Agora's own host (CSP: script-src 'self'),
// as a module: browsers too old for modules keep every menu open, which works as well.
import { initAll } from "./govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
