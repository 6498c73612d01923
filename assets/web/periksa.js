// The QR link carries the signed claim in the fragment, which the browser never sends. Before the
// page is shown, hand it to the server as a query so the verdict also checks the claim.
(function () {
  var claim = window.location.hash.slice(1);
  if (claim) {
    // Anything else than our base32 is passed on too, so that a damaged link is judged, not ignored.
    window.location.replace(window.location.pathname + "?claim=" + encodeURIComponent(claim));
  }
})();
