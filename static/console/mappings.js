// Marks the rows whose choices differ from what is saved, and counts them beside the
// Preview button. The page works the same without it.
(function () {
  "use strict";
  var form = document.getElementById("mapping-form");
  if (!form) return;
  var note = form.querySelector("[data-changes-note]");
  var initial = note ? note.textContent : "";
  // "status,statuses": the noun the page counts its changed rows in.
  var nouns = ((note && note.dataset.changesNote) || "row,rows").split(",");
  var rows = Array.prototype.slice.call(form.querySelectorAll("tbody tr"));
  function fields(row) {
    return Array.prototype.slice.call(row.querySelectorAll("select[data-saved], input[data-saved]"));
  }
  update();
  function update() {
    var changed = 0;
    rows.forEach(function (row) {
      // The page says what is saved (data-saved): back from a preview, the choices shown
      // are not what is saved, and still count as changes.
      var differs = fields(row).some(function (f) {
        return f.value.trim() !== f.dataset.saved;
      });
      if (!row.classList.contains("row-error")) row.classList.toggle("row-changed", differs);
      if (differs) changed += 1;
    });
    if (note) {
      note.textContent = changed
        ? changed + " " + (changed === 1 ? nouns[0] : nouns[1]) +
          " changed, not saved yet. Preview shows what saving would do."
        : initial;
    }
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
})();
