// Keeps the verification page usable without signal. Pages under /v/ come from the network when
// there is one; without it, any /v/… address gets the offline page kept at install, whose script
// checks the QR's signed claim in the browser with the issuer keys kept in localStorage.
var CACHE = "ikrar-periksa-v1";
var SHELL = "/v/luring";
// The issuer keys are kept by the page script in localStorage, with the time they were fetched.
var KEPT = [SHELL, "/aset/gaya.css", "/aset/periksa.js"];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) { return cache.addAll(KEPT); }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) {
        return caches.delete(n);
      }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.indexOf("/v/") === 0) {
    event.respondWith(fetch(request).catch(function () {
      return caches.match(SHELL);
    }));
    return;
  }
  if (KEPT.indexOf(url.pathname) >= 0) {
    // Network first so that a new key or script is seen at once; the kept copy without signal.
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(url.pathname);
    }));
  }
});
