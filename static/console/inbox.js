// The inbox's "select all" box, for the tickets on this page. Optional comfort: without
// JavaScript the box stays hidden and the tickets are ticked one by one. A file of its own,
// not inline: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) { return; }
  var boxes = document.querySelectorAll('#bulk-form input[name="ticket"]');
  if (!boxes.length) { return; }
  all.hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
})();
