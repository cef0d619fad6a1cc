// Marks the rows whose choices differ from what is saved, and counts them beside the
// Preview button. The page works the same without it.
(function () {
  "use strict";
  var form = document.getElementById("mapping-form");
  if (!form) return;
  var note = form.querySelector("[data-changes-note]");
  var initial = note ? note.textContent : "";
  var rows = Array.prototype.slice.call(form.querySelectorAll("tr[data-status]"));
  // The page says what is saved (data-saved): back from a preview, the choices shown are
  // not what is saved, and still count as changes.
  rows.forEach(function (row) {
    row.querySelectorAll("select").forEach(function (select) {
      if (!("saved" in select.dataset)) select.dataset.saved = select.value;
    });
  });
  update();
  function update() {
    var changed = 0;
    rows.forEach(function (row) {
      var differs = Array.prototype.some.call(row.querySelectorAll("select"), function (s) {
        return s.value !== s.dataset.saved;
      });
      row.classList.toggle("row-changed", differs);
      if (differs) changed += 1;
    });
    if (note) {
      note.textContent = changed
        ? changed + (changed === 1 ? " status changed" : " statuses changed") +
          ", not saved yet. Preview shows what saving would do."
        : initial;
    }
  }
  form.addEventListener("change", update);
})();
