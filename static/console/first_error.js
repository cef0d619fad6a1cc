// Put the keyboard on the first thing to fix after a refused form, so nobody hunts for it
// (on a phone the error may be far below the fold). A static file: the CSP allows no inline
// script. Django marks each field with an error aria-invalid="true"; a message without a
// field (a refused step) is a role="alert" box, focused itself so a screen reader reads it.
(function () {
  "use strict";
  function firstError() {
    var field = document.querySelector('main [aria-invalid="true"]');
    if (field) return field;
    var alert = document.querySelector("main .error-box[role=alert], main .errorlist[role=alert]");
    if (alert && !alert.hasAttribute("tabindex")) alert.setAttribute("tabindex", "-1");
    return alert;
  }
  function focusFirstError() {
    // A field someone already focused (autofocus, or a click) is left alone.
    if (document.activeElement && document.activeElement !== document.body) return;
    var target = firstError();
    if (!target) return;
    target.focus();
    if (target.scrollIntoView) target.scrollIntoView({ block: "center" });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirstError);
  } else {
    focusFirstError();
  }
})();
