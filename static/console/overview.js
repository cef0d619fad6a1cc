// The overview keeps itself current: htmx swaps a fresh copy into #overview every few
// seconds (its hx-trigger; the container itself stays, so these listeners see its events). This script says how old the copy on screen is, turns that
// red when refreshing fails, and keeps each brand's details open or shut across a swap.
(function () {
  "use strict";
  var openState = {};
  var signedOut = false;

  function words(seconds) {
    if (seconds < 2) return "Updated just now";
    if (seconds < 90) return "Updated " + seconds + " s ago";
    var minutes = Math.round(seconds / 60);
    return "Updated " + minutes + " min ago";
  }

  function tick() {
    var box = document.getElementById("overview");
    if (!box) return;
    var at = Date.parse(box.getAttribute("data-updated"));
    var label = document.querySelector("[data-updated-words]");
    if (!label || isNaN(at)) return;
    var seconds = Math.max(0, Math.round((Date.now() - at) / 1000));
    var text = words(seconds);
    var status = label.parentElement;
    // Two missed refreshes (or more) say so: the page is not live any more.
    var stale = signedOut || seconds > 3 * (parseInt(box.getAttribute("data-poll"), 10) || 10);
    if (signedOut) text += ": you were signed out, reload the page to sign in again";
    else if (stale) text += ": not refreshing, the console may be unreachable";
    if (label.textContent !== text) label.textContent = text;
    if (status) status.classList.toggle("stale", stale);
  }

  // Read just before a swap, when the page shows what the person chose (not on "toggle":
  // newly swapped-in details fire their own toggle events after the swap).
  function remember() {
    document.querySelectorAll("#overview details[data-details-id]").forEach(function (d) {
      openState[d.getAttribute("data-details-id")] = d.open;
    });
  }

  function restore() {
    document.querySelectorAll("#overview details[data-details-id]").forEach(function (d) {
      var id = d.getAttribute("data-details-id");
      if (Object.prototype.hasOwnProperty.call(openState, id)) d.open = openState[id];
    });
    tick();
  }

  document.body.addEventListener("htmx:beforeSwap", remember);
  // At once after the swap, before the browser paints: no flicker of the server's default.
  document.body.addEventListener("htmx:afterSwap", restore);
  document.body.addEventListener("htmx:responseError", function (event) {
    if (event.detail && event.detail.xhr && event.detail.xhr.status === 401) {
      signedOut = true;
      tick();
    }
  });
  // The server's clock stamps each copy; measure its age on the browser's clock from the
  // moment it arrived, so a clock difference between the two does not show as staleness.
  document.body.addEventListener("htmx:afterSwap", function () {
    var box = document.getElementById("overview");
    signedOut = false;
    if (box) box.setAttribute("data-updated", new Date().toISOString());
    tick();
  });
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("overview");
    if (box) box.setAttribute("data-updated", new Date().toISOString());
    tick();
  });
  setInterval(tick, 1000);
})();
