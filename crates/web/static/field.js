// The field app on the sampler's pages (the task list and a task's page): registers the service
// worker (sw.js), says 离线 when the network is down (the page then comes from the phone), and on
// each online visit of the task list asks the worker to keep the day's pages on the phone (the
// list, every open task's page with its forms, and the implementation rules those tasks follow).
(function () {
  "use strict";
  var bar = document.querySelector("[data-field-bar]");
  if (!bar) return;
  var banner = bar.querySelector("[data-offline-banner]");
  var ready = bar.querySelector("[data-offline-ready]");

  function offline(yes) { if (banner) banner.hidden = !yes; }
  function check() {
    if (navigator.onLine === false) { offline(true); return; }
    fetch("/healthz", { cache: "no-store", credentials: "same-origin" }).then(function (r) { offline(!r.ok); }, function () { offline(true); });
  }
  window.addEventListener("offline", function () { offline(true); });
  window.addEventListener("online", check);
  check();

  if (!("serviceWorker" in navigator)) return;
  var sw = navigator.serviceWorker;
  sw.register("/sw.js", { scope: "/" }).catch(function () { /* the pages work online without it */ });
  sw.addEventListener("message", function (ev) {
    var d = ev.data || {};
    if (d.type === "precached" && ready) {
      var at = new Date(d.at).toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
      ready.textContent = "已在本机保存 " + d.kept + " 个页面（当天的任务、表单和实施细则），" + at + " 更新；没有网络也能打开。" +
        (d.failed ? "有 " + d.failed + " 个页面未能保存。" : "");
      ready.setAttribute("data-kept", String(d.kept));
      ready.hidden = false;
    }
    if (d.type === "sync" && window.chouchaOutbox) window.chouchaOutbox.sync();
  });
  if (sw.startMessages) sw.startMessages();
  // The day's pages: asked for on the task list, online.
  if (location.pathname === "/tasks" && navigator.onLine !== false) {
    sw.ready.then(function (reg) {
      var worker = reg.active || sw.controller;
      if (worker) worker.postMessage({ type: "precache", urls: ["/tasks"] });
    });
  }
})();
