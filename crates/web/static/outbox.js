// The phone's outbox (the field app): writes made with no network — the sampling record, the
// signatures, the evidence photos, the other forms of a task — wait in IndexedDB ("choucha-outbox")
// in the order they were made, shown as 待同步 with a count, and are replayed in that order when the
// network returns (the online event, a Background Sync wake-up, a timer, or the 立即同步 button).
//
// Every record or signature write carries what it was based on: the record's hash as the page
// showed it (empty when there was none yet), or, for a write queued after another of the same task,
// the hash the earlier one produced. The server refuses a write based on a record that changed
// meanwhile with 409 stale_task; the write then stays on the phone as a conflict, shown next to
// what the server has, until the sampler re-applies it onto the server's version or discards it
// (after a confirmation). Nothing is dropped silently. Photos are uploaded by sampling.js (resumable
// chunks); their entry here keeps the order (signatures wait for the photos before them).
(function () {
  "use strict";
  var bar = document.querySelector("[data-field-bar]");
  var countEl = bar && bar.querySelector("[data-outbox-count]");
  var box = bar && bar.querySelector("[data-outbox]");
  var stateEl = bar && bar.querySelector("[data-outbox-state]");
  var conflictsEl = bar && bar.querySelector("[data-conflicts]");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var KINDS_BASED = { record: true, sign: true };

  var dbp = null;
  function db() {
    if (dbp) return dbp;
    dbp = new Promise(function (ok, fail) {
      if (!window.indexedDB) return fail(new Error("no indexedDB"));
      var rq = indexedDB.open("choucha-outbox", 1);
      rq.onupgradeneeded = function () { rq.result.createObjectStore("writes", { keyPath: "id", autoIncrement: true }); };
      rq.onsuccess = function () { ok(rq.result); };
      rq.onerror = function () { fail(rq.error); };
    });
    return dbp;
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (ok, fail) {
        var t = d.transaction("writes", mode);
        var out = fn(t.objectStore("writes"));
        t.oncomplete = function () { ok(out && out.result); };
        t.onerror = function () { fail(t.error); };
      });
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }).then(function (x) { return x || []; }); }
  function put(e) { return tx("readwrite", function (s) { return s.put(e); }); }
  function drop(id) { return tx("readwrite", function (s) { return s.delete(id); }); }

  function now() { return new Date().toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" }); }
  function say(msg) { if (stateEl) stateEl.textContent = msg || ""; }

  /** Queue a write. Record and signature writes are based on the page's record hash, or chained. */
  function add(e) {
    return all().then(function (list) {
      e.at = now();
      if (KINDS_BASED[e.kind]) {
        var before = list.some(function (x) { return x.task === e.task && KINDS_BASED[x.kind]; });
        e.chained = before;
        if (!before) e.base = e.base || "";
        else e.base = null;
      }
      return put(e);
    }).then(function () {
      if (navigator.serviceWorker && navigator.serviceWorker.ready) {
        navigator.serviceWorker.ready.then(function (r) { if (r.sync) r.sync.register("choucha-outbox").catch(function () {}); });
      }
      return render();
    });
  }

  function list(task) { return all().then(function (l) { return l.filter(function (e) { return task === undefined || e.task === task; }); }); }

  // ---- requests ------------------------------------------------------------------------------
  function send(e, retried) {
    var url = e.url;
    if (KINDS_BASED[e.kind]) url += (url.indexOf("?") < 0 ? "?" : "&") + "expected_record_hash=" + encodeURIComponent(e.base || "");
    var opts = { method: e.method, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfMeta ? csrfMeta.getAttribute("content") : "", "Accept": "application/json", "Content-Type": "application/json" },
      body: JSON.stringify(e.body) };
    return fetch(url, opts).then(function (r) {
      if (r.status === 401) throw { auth: true };
      var ct = r.headers.get("content-type") || "";
      if (ct.indexOf("application/json") < 0) throw { status: r.status, body: { code: "http_" + r.status, message: "服务器错误（" + r.status + "）" } };
      return r.json().then(function (j) {
        if (r.status === 403 && j && j.code === "csrf_token" && !retried) {
          // The page came from the phone: ask the session's current token and send once more.
          return fetch("/session/csrf", { credentials: "same-origin", cache: "no-store" }).then(function (t) { return t.json(); }).then(function (t) {
            if (csrfMeta && t && t.csrf) csrfMeta.setAttribute("content", t.csrf);
            return send(e, true);
          });
        }
        if (!r.ok) throw { status: r.status, body: j };
        return j;
      });
    }, function () { throw { offline: true }; });
  }
  function getRecord(task) {
    return fetch("/api/v1/tasks/" + task + "/record", { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) {
      if (r.status === 404) return null;
      if (!r.ok) throw { status: r.status };
      return r.json();
    });
  }

  // ---- replay --------------------------------------------------------------------------------
  var running = null;
  function sync() {
    if (running) return running;
    var work = function () { return replay(); };
    running = (navigator.locks && navigator.locks.request ? navigator.locks.request("choucha-outbox", work) : work())
      .then(function (n) { running = null; return n; }, function () { running = null; say("同步中断，稍后自动重试"); return 0; });
    return running;
  }
  function replay() {
    var done = 0;
    var blocked = {};
    var stop = false;
    return all().then(function (entries) {
      entries.sort(function (a, b) { return a.id - b.id; });
      if (!entries.length) return 0;
      say("正在同步…");
      return entries.reduce(function (p, e) {
        return p.then(function () {
          if (stop || blocked[e.task]) return null;
          if (e.conflict || e.error) { blocked[e.task] = true; return null; }
          if (KINDS_BASED[e.kind] && e.base === null) { blocked[e.task] = true; return null; }
          var step = e.kind === "evidence" ? upload(e) : send(e);
          return step.then(function (answer) {
            done += 1;
            return drop(e.id).then(function () { return rebase(e, answer); });
          }, function (err) {
            err = err || {};
            if (err.offline || err.later) { stop = true; say(err.later ? err.message : "网络仍不通，稍后自动重试"); return null; }
            if (err.auth) { stop = true; say("登录已过期：请联网后重新登录，待同步的内容保存在本机"); return null; }
            blocked[e.task] = true;
            var body = (err && err.body) || {};
            if (err.status === 409 && body.code === "stale_task") {
              return getRecord(e.task).then(function (server) {
                e.conflict = { message: body.message, server: server };
                return put(e);
              }, function () { e.conflict = { message: body.message, server: null }; return put(e); });
            }
            e.error = body.message || "提交失败";
            return put(e);
          });
        });
      }, Promise.resolve()).then(function () { return render().then(function (left) {
        say(done ? "已同步 " + done + " 项 " + now() : stateEl ? stateEl.textContent : "");
        if (done && !left && document.querySelector("[data-task][data-stamp]")) window.location.reload();
        return done;
      }); });
    });
  }
  // The next record or signature writes of the task were based on what this one produced.
  function rebase(e, answer) {
    if (!KINDS_BASED[e.kind] || !answer || typeof answer.record_hash !== "string") return Promise.resolve();
    return all().then(function (l) {
      return Promise.all(l.filter(function (x) { return x.task === e.task && x.chained && KINDS_BASED[x.kind] && x.id > e.id; })
        .map(function (x) { x.base = answer.record_hash; x.chained = false; return put(x); }));
    });
  }
  function upload(e) {
    var u = window.chouchaUploads;
    if (!u || String(u.task) !== String(e.task)) {
      return Promise.reject({ later: true, message: "有照片尚未上传：请打开该任务的页面继续同步" });
    }
    return u.finish(e.jobKey);
  }

  // ---- what the sampler sees -----------------------------------------------------------------
  var LABELS = { product_name: "产品名称", brand: "商标", model: "规格型号", batch: "生产日期/批号", standard: "执行标准",
    grade: "质量等级", producer_name: "标称生产者", producer_address: "生产者地址", producer_uscc: "生产者统一社会信用代码",
    sampling_base: "抽样基数", test_quantity: "检验样品数量", backup_quantity: "备用样品数量", unit: "单位", unit_price: "单价",
    price_basis: "价格依据", place: "抽样地点", domain: "抽样领域", sampled_at: "抽样时间", test_seals: "检验样品封条编号",
    backup_seals: "备用样品封条编号", remarks: "备注", contact_name: "联系人", contact_phone: "联系电话" };
  function text(v) { return Array.isArray(v) ? v.join("、") : v === undefined || v === null ? "" : String(v); }
  function el(tag, cls, txt) { var x = document.createElement(tag); if (cls) x.className = cls; if (txt !== undefined) x.textContent = txt; return x; }

  function conflictCard(e) {
    var card = el("div", "card conflict");
    card.setAttribute("data-testid", e.conflict ? "conflict" : "sync-error");
    card.appendChild(el("h3", "", (e.conflict ? "同步冲突：" : "未能同步：") + e.label + "（任务 " + e.task + "，本机 " + e.at + "）"));
    card.appendChild(el("p", "", e.conflict ? e.conflict.message : e.error));
    if (e.conflict) {
      var server = e.conflict.server;
      if (e.kind === "record") {
        var table = el("table", "list");
        table.setAttribute("data-testid", "conflict-diff");
        var head = el("tr"); ["项目", "本机", "服务器"].forEach(function (h) { head.appendChild(el("th", "", h)); });
        table.appendChild(head);
        Object.keys(LABELS).forEach(function (k) {
          var mine = text(e.body[k]);
          var theirs = server ? text(server.fields[k]) : "";
          if (mine === theirs) return;
          var tr = el("tr"); tr.appendChild(el("td", "", LABELS[k])); tr.appendChild(el("td", "", mine)); tr.appendChild(el("td", "", theirs));
          table.appendChild(tr);
        });
        card.appendChild(table);
      } else {
        card.appendChild(el("p", "muted", "本机的签字针对的是较早的抽样单内容；服务器上现在是" + (server ? "第" + server.version + "版" : "没有抽样单") + "。"));
      }
    }
    var actions = el("div", "actions");
    var again = el("button", "", e.conflict ? "以服务器内容为基础，重新提交本机内容" : "重试");
    again.type = "button";
    again.setAttribute("data-testid", "conflict-reapply");
    again.addEventListener("click", function () {
      var step = e.conflict ? getRecord(e.task).then(function (r) { e.base = r ? r.record_hash : ""; e.chained = false; }) : Promise.resolve();
      step.then(function () { delete e.conflict; delete e.error; return put(e); }).then(sync, function () { say("网络不通，稍后再试"); });
    });
    var discard = el("button", "secondary", "放弃本机内容");
    discard.type = "button";
    discard.setAttribute("data-testid", "conflict-discard");
    discard.addEventListener("click", function () {
      if (!window.confirm("确定放弃本机的“" + e.label + "”？放弃后不能恢复，服务器上的内容保持不变。")) return;
      all().then(function (l) {
        // Writes chained on this one are now based on what this one was based on.
        return Promise.all(l.filter(function (x) { return x.task === e.task && x.chained && x.id > e.id; })
          .map(function (x) { x.base = e.base; x.chained = false; return put(x); }));
      }).then(function () { return drop(e.id); }).then(render).then(sync);
    });
    actions.appendChild(again); actions.appendChild(discard);
    card.appendChild(actions);
    return card;
  }

  function render() {
    return all().then(function (l) {
      if (countEl) countEl.textContent = String(l.length);
      if (box) box.hidden = l.length === 0;
      if (conflictsEl) {
        conflictsEl.textContent = "";
        l.filter(function (e) { return e.conflict || e.error; }).forEach(function (e) { conflictsEl.appendChild(conflictCard(e)); });
      }
      return l.length;
    }, function () { return 0; });
  }

  window.chouchaOutbox = { add: add, list: list, sync: sync, render: render };
  if (bar) {
    var now_ = bar.querySelector("[data-sync-now]");
    if (now_) now_.addEventListener("click", function () { sync(); });
  }
  window.addEventListener("online", function () { sync(); });
  render().then(function (n) { if (n && navigator.onLine !== false) sync(); });
  setInterval(function () { if (navigator.onLine !== false) render().then(function (n) { if (n) sync(); }); }, 20000);
})();
