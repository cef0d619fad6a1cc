// The mapping export's "Select all" box. django-import-export wires it with an inline
// onchange attribute, which the Content-Security-Policy blocks (no inline script); this
// attaches the package's own handler (export_selectable_fields.js) the allowed way.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  if (typeof onSelectToggleChange !== "function") { return; }
  document.querySelectorAll("input.select-toggle").forEach(function (box) {
    box.addEventListener("change", onSelectToggleChange);
  });
});
