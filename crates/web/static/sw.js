// The field app's service worker (served from the binary at /sw.js, scope "/"). It keeps the app
// shell (styles, scripts, icons) and the sampler's pages on the phone so that they open with no
// network: the task list, the open tasks' pages with their forms and the implementation rules.
//
// - Static files: from the cache, else the network (the cache's name carries the build's version,
//   so a new binary brings new files and the old caches are deleted on activation).
// - The sampler's pages: the network first (each answer is kept), the kept copy when the network
//   is down, else a short Chinese page saying the page was never opened online.
// - On each online visit of the task list the page asks for the day's pages (message "precache"):
//   the list, each open task's page and, from those pages, the rules they link (data-precache).
// - Writes are never touched here: the pages queue them in IndexedDB (outbox.js) and replay them.
//   A Background Sync event only wakes the open pages to replay.
"use strict";
var VERSION = "__CACHE_VERSION__";
var SHELL = "choucha-shell-" + VERSION;
var PAGES = "choucha-pages-" + VERSION;
var ASSETS = [
  "/static/app.css", "/static/app.js", "/static/htmx.min.js", "/static/sampling.css", "/static/sampling.js",
  "/static/signoff.js", "/static/rows.js", "/static/field.js", "/static/outbox.js",
  "/static/icon-192.png", "/static/icon-512.png", "/app.webmanifest"
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (c) { return c.addAll(ASSETS); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== SHELL && k !== PAGES; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

/** The pages a sampler needs offline. */
function isFieldPage(url) {
  return url.pathname === "/tasks" || /^\/tasks\/\d+$/.test(url.pathname) || /^\/public\/rules\/\d+$/.test(url.pathname);
}

function keep(request, response) {
  if (!response || !response.ok || response.type !== "basic" || response.redirected) return Promise.resolve();
  if ((response.headers.get("content-type") || "").indexOf("text/html") < 0) return Promise.resolve();
  return caches.open(PAGES).then(function (c) { return c.put(request, response); });
}

var NOT_KEPT = "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
  "<title>离线 - 抽查</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main>" +
  "<div class=\"flash warn\" data-testid=\"offline-banner\">离线：网络不通，此页面没有保存在本机。</div>" +
  "<p>联网时打开过“我的抽样任务”的页面会保存在本机，离线也能打开。</p><p><a href=\"/tasks\">我的抽样任务</a></p></main></body></html>";

self.addEventListener("fetch", function (event) {
  var req = event.request;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.method === "POST" && url.pathname === "/logout") {
    // Signing out forgets the pages kept for this user (the next user of the phone sees none).
    event.waitUntil(caches.delete(PAGES));
    return;
  }
  if (req.method !== "GET") return;
  if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/app.webmanifest") {
    event.respondWith(caches.match(req, { ignoreVary: true }).then(function (hit) {
      return hit || fetch(req).then(function (r) {
        if (r.ok) { var copy = r.clone(); caches.open(SHELL).then(function (c) { c.put(req, copy); }); }
        return r;
      });
    }));
    return;
  }
  if (!isFieldPage(url)) return;
  event.respondWith(fetch(req).then(function (r) {
    var copy = r.clone();
    event.waitUntil(keep(new Request(url.href), copy));
    return r;
  }, function () {
    return caches.open(PAGES).then(function (c) { return c.match(url.href, { ignoreVary: true }); }).then(function (hit) {
      return hit || new Response(NOT_KEPT, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
    });
  }));
});

/** Fetch and keep `urls` and the pages they mark with data-precache, two links deep (the list, its
 *  open tasks, their rules). */
function precache(urls) {
  var seen = {};
  var kept = 0;
  var failed = 0;
  function one(href, depth) {
    var url = new URL(href, self.location.origin);
    if (url.origin !== self.location.origin || !isFieldPage(url) || seen[url.href]) return Promise.resolve();
    seen[url.href] = true;
    return fetch(url.href, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok || r.redirected) { failed += 1; return null; }
      return keep(new Request(url.href), r.clone()).then(function () { kept += 1; return depth > 0 ? r.text() : null; });
    }).then(function (html) {
      if (!html) return null;
      var more = [];
      var re = /<a [^>]*href="([^"]+)"[^>]*data-precache/g;
      var m;
      while ((m = re.exec(html))) more.push(m[1].replace(/&amp;/g, "&"));
      return Promise.all(more.map(function (h) { return one(h, depth - 1); }));
    }, function () { failed += 1; });
  }
  return Promise.all(urls.map(function (u) { return one(u, 2); })).then(function () {
    return { kept: kept, failed: failed };
  });
}

self.addEventListener("message", function (event) {
  var d = event.data || {};
  if (d.type !== "precache" || !Array.isArray(d.urls)) return;
  var source = event.source;
  event.waitUntil(precache(d.urls).then(function (n) {
    if (source) source.postMessage({ type: "precached", kept: n.kept, failed: n.failed, at: Date.now() });
  }));
});

self.addEventListener("sync", function (event) {
  if (event.tag !== "choucha-outbox") return;
  event.waitUntil(self.clients.matchAll({ type: "window" }).then(function (list) {
    list.forEach(function (c) { c.postMessage({ type: "sync" }); });
  }));
});
