// The live counter: the page works without this script (it shows the figures at load time); with
// it, the figures follow every signature through server-sent events. A hidden figure arrives as
// "–" (a small count on a public screen): the bar then stays empty.
(function () {
  var root = document.getElementById("live");
  if (!root || !window.EventSource) return;
  var source = new EventSource(root.getAttribute("data-stream"));
  source.onmessage = function (event) {
    var t = JSON.parse(event.data);
    var width = parseFloat(t.percent.replace(",", "."));
    document.getElementById("live-signed").textContent = t.signed;
    document.getElementById("live-roster").textContent = t.roster;
    document.getElementById("live-percent").textContent = t.percent;
    document.getElementById("live-bar").setAttribute("width", isNaN(width) ? "0" : String(width));
    document.getElementById("live-time").textContent = t.updated;
  };
})();
