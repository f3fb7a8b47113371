// Progressive enhancement only: every form works without it.
// The time zone of a new member is preset from the browser's own.
document.querySelectorAll("input[data-browser-time-zone]").forEach(function (input) {
  if (!input.value) {
    try { input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* keep it empty */ }
  }
});
