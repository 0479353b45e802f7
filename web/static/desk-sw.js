// The desk page's service worker (served as /desk-sw.js, scope /desk): the desk keeps working
// when the commune's line is down. Network first for the desk page, its own scripts and
// stylesheets and the unit's data (officers, procedures); each good answer is kept, and served
// when the network fails. Nothing else is touched: issuing (POST) always goes to the network,
// and the page itself falls back to signing slips offline (desk-offline.js).
"use strict";
var CACHE = "sipas-desk-v1";
var PRECACHE = ["/desk", "/static/desk.js", "/static/desk-offline.js", "/static/qrcode.js",
  "/static/desk.css", "/static/slip.css"];
var KEEP = /^\/(desk|desk\/screen|static\/[A-Za-z0-9.-]+|api\/v1\/desk\/unit-data|api\/v1\/officers)$/;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(PRECACHE); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || !KEEP.test(url.pathname)) { return; }
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { return cache.put(url.pathname, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(url.pathname).then(function (kept) { return kept || Response.error(); });
  }));
});
