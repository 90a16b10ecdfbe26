// Small enhancements; every page works without this file.
// 1. The queue refreshes itself: its rows are fetched again every 15 seconds.
// 2. Buttons with data-confirm ask before they send.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var live = document.querySelector("[data-live]");
  var rows = document.getElementById("queue-rows");
  if (live && rows) {
    setInterval(function () {
      fetch(live.getAttribute("data-live"), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null) { rows.innerHTML = html; } })
        .catch(function () {});
    }, 15000);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm") + "?")) { event.preventDefault(); }
  });
});
