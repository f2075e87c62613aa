// helm-cloud serve: live updates. The server pushes "changed" on /events when a report,
// an issue or the watch state changes; the page fetches itself once and swaps its <main>.
// No polling, no reload, no inline script (the Content-Security-Policy forbids it).
(function () {
  "use strict";
  var live = document.getElementById("live");
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "x-helm-refresh": "1" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (!text) { return; }
        var doc = new DOMParser().parseFromString(text, "text/html");
        var fresh = doc.getElementById("main");
        var main = document.getElementById("main");
        if (fresh && main) {
          main.replaceWith(document.importNode(fresh, true));
          document.body.setAttribute("data-updated", String(Date.now()));
        }
      })
      .catch(function () { /* the next change tries again */ })
      .finally(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }
  if (!window.EventSource) { return; }
  var source = new EventSource("/events");
  source.addEventListener("changed", refresh);
  source.addEventListener("open", function () { if (live) { live.className = "on"; } });
  source.addEventListener("error", function () { if (live) { live.className = "off"; } });
})();
