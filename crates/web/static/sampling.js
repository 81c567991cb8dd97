// The sampler's task page (templates/tasks/detail.html). Nothing typed is lost: every form is kept
// in localStorage as it is typed and restored after a reload; the page says whether something is
// saved only on this phone or reached the server. Photos and videos wait in IndexedDB and upload in
// chunks that resume from the server's offset after a dropped connection, a reload or a restart.
// Every call goes to the JSON API (/api/v1/…) with the session cookie and, on writes, the page's
// CSRF token in X-CSRF-Token: the API answers {code, message} in Chinese, the page shows it.
(function () {
  "use strict";
  var root = document.querySelector("[data-task]");
  if (!root) return;
  var taskId = root.getAttribute("data-task");
  var base = "/api/v1/tasks/" + taskId;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var net = root.querySelector("[data-net], .net");
  var CHUNK = 256 * 1024;

  function now() { return new Date().toLocaleTimeString("zh-CN", { hour12: false }); }
  function say(msg) { if (net) net.textContent = msg || ""; }

  // ---- the outbox (outbox.js): writes made offline wait on the phone and are replayed in order --
  var outbox = window.chouchaOutbox;
  function queue(kind, method, url, body, label, extra) {
    var e = { task: taskId, kind: kind, method: method, url: url, body: body, label: label, base: root.getAttribute("data-stamp") || "" };
    Object.keys(extra || {}).forEach(function (k) { e[k] = extra[k]; });
    return outbox.add(e);
  }
  // Offline, a form that was sent is replaced by a note; the outbox shows it as 待同步.
  function queuedNote(form, text) {
    var p = document.createElement("p");
    p.className = "flash warn";
    p.setAttribute("data-testid", "queued");
    p.textContent = text;
    form.hidden = true;
    form.parentNode.insertBefore(p, form);
  }
  function revealSigning() { root.querySelectorAll("[data-needs-record]").forEach(function (x) { x.hidden = false; }); }

  // ---- requests ------------------------------------------------------------------------------
  // Resolves with the JSON answer; rejects with {offline} (no connection), {auth} (signed out) or
  // {status, body} (the service refused: body = {code, message, errors}).
  var EXPIRED = "页面已过期，请刷新页面（已填写的内容保存在本机，不会丢失）";
  function call(method, url, body, raw) {
    var opts = { method: method, headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }, credentials: "same-origin" };
    if (raw !== undefined) { opts.headers["Content-Type"] = "application/octet-stream"; opts.body = raw; }
    else if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(url, opts).then(function (r) {
      if (r.status === 401) throw { auth: true };
      var ct = r.headers.get("content-type") || "";
      if (ct.indexOf("application/json") < 0) {
        throw { status: r.status, body: { code: "http_" + r.status, message: "服务器错误（" + r.status + "），请稍后重试" } };
      }
      return r.json().then(function (j) {
        if (r.status === 403 && j && j.code === "csrf_token") throw { status: 403, body: { code: j.code, message: EXPIRED } };
        if (!r.ok) throw { status: r.status, body: j };
        return j;
      });
    }, function () { throw { offline: true }; });
  }

  function problemText(e) {
    if (e.offline) return "网络不通：内容已保存在本机，联网后再提交";
    if (e.auth) return "登录已过期：请在新窗口重新登录后再提交（内容已保存在本机）";
    return (e.body && e.body.message) || "提交失败";
  }

  // Show the service's errors next to their fields; the rest at the top of the form.
  function showErrors(form, e) {
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; });
    form.querySelectorAll(".field.has-error").forEach(function (el) { el.classList.remove("has-error"); });
    var top = form.querySelector("[data-form-error]");
    var rest = [];
    var errs = (e && e.body && e.body.errors) || [];
    errs.forEach(function (x) {
      var slot = x.field && form.querySelector('[data-error-for="' + x.field + '"]');
      if (slot) {
        slot.textContent = (slot.textContent ? slot.textContent + "；" : "") + x.message;
        var f = slot.closest(".field"); if (f) f.classList.add("has-error");
      } else rest.push(x.message);
    });
    if (!errs.length && e) rest.push(problemText(e));
    if (top) { top.textContent = rest.join("；"); top.hidden = rest.length === 0; }
    var first = form.querySelector(".field.has-error, [data-form-error]:not([hidden])");
    if (first && first.scrollIntoView) first.scrollIntoView({ block: "center" });
  }

  function confirmed(form) {
    var btn = form.querySelector("[data-confirm-text]");
    var text = form.getAttribute("data-confirm-text") || (btn && btn.getAttribute("data-confirm-text"));
    return !text || window.confirm(text);
  }

  // ---- drafts in localStorage ----------------------------------------------------------------
  function draftKey(name) { return "choucha.task." + taskId + "." + name; }
  function readDraft(name) { try { return JSON.parse(localStorage.getItem(draftKey(name)) || "null"); } catch (_) { return null; } }
  function writeDraft(name, d) { try { localStorage.setItem(draftKey(name), JSON.stringify(d)); } catch (_) { /* full */ } }
  function dropDraft(name) { try { localStorage.removeItem(draftKey(name)); } catch (_) { /* ignore */ } }

  function valuesOf(form) {
    var v = {};
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if (el.type === "hidden" || el.type === "file") return;
      if (el.type === "radio") { if (el.checked) v[el.name] = el.value; return; }
      v[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    return v;
  }
  function fill(form, v) {
    Object.keys(v || {}).forEach(function (k) {
      var el = form.querySelector('[name="' + k + '"]');
      if (el && el.type === "radio") {
        form.querySelectorAll('[name="' + k + '"]').forEach(function (r) { r.checked = r.value === v[k]; });
        return;
      }
      if (!el || el.type === "hidden" || el.type === "file") return;
      if (el.type === "checkbox") { el.checked = !!v[k]; el.dispatchEvent(new Event("change")); } else el.value = v[k];
    });
  }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  // ---- the sampling record (and its correction) ----------------------------------------------
  function splitSeals(s) { return String(s || "").split(/[,，、;；\s]+/).map(function (x) { return x.trim(); }).filter(Boolean); }
  function num(s) { var n = parseFloat(String(s || "").replace(/[^0-9.\-]/g, "")); return isFinite(n) ? n : 0; }
  function recordOf(v) {
    return {
      product_name: v.product_name || "", brand: v.brand || "", model: v.model || "", batch: v.batch || "",
      standard: v.standard || "", grade: v.grade || "", producer_name: v.producer_name || "",
      producer_address: v.producer_address || "", producer_uscc: v.producer_uscc || "",
      sampling_base: num(v.sampling_base), test_quantity: num(v.test_quantity), backup_quantity: num(v.backup_quantity),
      unit: v.unit || "", unit_price: num(v.unit_price), price_basis: v.price_basis || "marked",
      place: v.place || "", domain: v.domain || "circulation", sampled_at: v.sampled_at || "",
      test_seals: splitSeals(v.test_seals), backup_seals: splitSeals(v.backup_seals), remarks: v.remarks || "",
      contact_name: v.contact_name || "", contact_phone: v.contact_phone || ""
    };
  }

  document.querySelectorAll("form[data-record-form]").forEach(function (form) {
    var correction = form.hasAttribute("data-correction");
    var name = correction ? "correction" : "record";
    var state = form.querySelector("[data-save-state]");
    var total = form.querySelector("[data-total]");
    var server = valuesOf(form); // what the server has (or the pre-filled values)
    var pending = false;
    function mark(cls, msg) { if (state) { state.className = "save-state " + cls; state.textContent = msg; } }
    function updateTotal() {
      if (!total) return;
      var v = valuesOf(form);
      total.textContent = (num(v.test_quantity) * num(v.unit_price)).toFixed(2);
    }
    var d = readDraft(name);
    if (d && d.values && !same(d.values, server)) {
      fill(form, d.values);
      pending = !!d.pending;
      mark("local", "已恢复本机保存的草稿（" + d.at + "）：尚未提交到服务器");
    } else if (!correction && form.getAttribute("data-saved") !== null) {
      mark("server", "已保存到服务器");
    }
    updateTotal();
    form.addEventListener("input", function () {
      writeDraft(name, { values: valuesOf(form), at: now(), pending: pending });
      mark("local", "已保存在本机 " + now() + "（尚未提交到服务器）");
      updateTotal();
    });
    form.addEventListener("change", function () { form.dispatchEvent(new Event("input")); });
    function submit() {
      var v = valuesOf(form);
      var body = correction ? { fields: recordOf(v), reason: v.reason || "" } : recordOf(v);
      mark("local", "正在提交…");
      return call(correction ? "POST" : "PUT", base + (correction ? "/record/corrections" : "/record"), body).then(function () {
        dropDraft(name);
        pending = false;
        mark("server", "已提交到服务器 " + now());
        window.location.reload();
      }, function (e) {
        if (e.offline && outbox && !correction) {
          queue("record", "PUT", base + "/record", body, "抽样单", { values: v }).then(function () {
            server = v; pending = false; dropDraft(name);
            mark("local", "网络不通：抽样单已放入待同步（保存在本机 " + now() + "），联网后按顺序提交");
            revealSigning();
          });
          showErrors(form, null);
          return;
        }
        if (e.offline) {
          pending = true;
          writeDraft(name, { values: v, at: now(), pending: true });
          mark("local", "网络不通：已保存在本机 " + now() + "，联网后自动提交");
          say("网络不通：抽样单只保存在本机，尚未到达服务器");
        } else {
          pending = false;
          writeDraft(name, { values: v, at: now(), pending: false });
          mark("error", "未保存到服务器：" + problemText(e) + "（本机已保存）");
        }
        showErrors(form, e);
      });
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (correction && !confirmed(form)) return;
      submit();
    });
    function retry() { if (pending && navigator.onLine !== false) { say(""); submit(); } }
    window.addEventListener("online", retry);
    setInterval(retry, 15000);
    form.__hasUnsaved = function () { var x = readDraft(name); return !!(x && x.values && !same(x.values, server)); };
    // A record queued on this phone: the form shows it, and it can be signed.
    if (outbox && !correction) {
      outbox.list(taskId).then(function (l) {
        var last = l.filter(function (e) { return e.kind === "record"; }).pop();
        if (!last) return;
        fill(form, last.values); server = valuesOf(form); updateTotal();
        mark("local", "抽样单在待同步中（本机 " + last.at + "），联网后按顺序提交");
        revealSigning();
      });
    }
  });

  // ---- starting the task: through the API; with no network, queued first in the outbox -------
  // The page of a task not yet started carries its sampling sections hidden (the phone kept it
  // while online); a start queued on the phone shows them, and everything after it waits behind it.
  var startForm = root.querySelector("form[data-start]");
  function startQueued() {
    root.querySelectorAll("[data-needs-start]").forEach(function (x) { x.hidden = false; });
    if (startForm && !startForm.hidden) queuedNote(startForm, "“开始抽样”已放入待同步（网络不通，保存在本机），联网后最先提交");
  }
  if (startForm) {
    if (outbox) outbox.list(taskId).then(function (l) { if (l.some(function (e) { return e.kind === "start"; })) startQueued(); });
    startForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      call("POST", base + "/start", {}).then(function () { window.location.reload(); }, function (e) {
        if (e.offline && outbox) { queue("start", "POST", base + "/start", {}, "开始抽样").then(startQueued); return; }
        showErrors(startForm, e);
      });
    });
  }

  // ---- other forms (outcomes): drafts, confirmation, JSON post -------------------------------
  function draftForm(form) {
    var name = form.getAttribute("data-draft");
    if (!name) return;
    var d = readDraft(name);
    if (d && d.values) fill(form, d.values);
    form.addEventListener("input", function () { writeDraft(name, { values: valuesOf(form), at: now() }); });
  }
  document.querySelectorAll("form[data-action]").forEach(function (form) {
    draftForm(form);
    // A form's signature pads (a courier signing on this phone) and its number fields.
    var formPads = [];
    form.querySelectorAll("canvas[data-pad]").forEach(function (c) { formPads.push({ el: c, pad: window.chouchaPad(c) }); });
    var clearPads = form.querySelector("[data-clear]");
    if (clearPads) clearPads.addEventListener("click", function () { formPads.forEach(function (p) { p.pad.clear(); }); });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var values = valuesOf(form);
      var bad = null;
      form.querySelectorAll("input[data-number]").forEach(function (el) {
        var t = String(el.value || "").trim().replace("，", ".");
        if (!t) { values[el.name] = null; return; }
        var n = Number(t);
        if (!isFinite(n)) bad = bad || { field: el.name, message: "请填写数字" };
        values[el.name] = isFinite(n) ? n : null;
      });
      if (bad) { showErrors(form, { body: { message: bad.message, errors: [bad] } }); return; }
      formPads.forEach(function (p) { values[p.el.getAttribute("data-pad")] = p.pad.png(); });
      if (!confirmed(form)) return;
      call("POST", form.getAttribute("data-action"), values).then(function () {
        dropDraft(form.getAttribute("data-draft"));
        window.location.reload();
      }, function (e) {
        var btn = form.querySelector("button[type=submit]");
        var label = btn ? btn.textContent.trim() : "表单";
        if (e.offline && outbox) {
          queue("action", "POST", form.getAttribute("data-action"), values, label).then(function () {
            dropDraft(form.getAttribute("data-draft"));
            queuedNote(form, "“" + label + "”已放入待同步（网络不通，保存在本机），联网后按顺序提交");
          });
          return;
        }
        showErrors(form, e);
      });
    });
  });

  // ---- signature pads ------------------------------------------------------------------------
  // The pads come from signoff.js (loaded first).
  var pad = window.chouchaPad;

  document.querySelectorAll("form[data-sign]").forEach(function (form) {
    draftForm(form);
    if (outbox) {
      var who = form.querySelector('[name="signer"]').value;
      outbox.list(taskId).then(function (l) {
        var q = l.filter(function (e) { return e.kind === "sign" && e.signer === who; })[0];
        if (q) queuedNote(form, q.label + "在待同步中（本机 " + q.at + "），联网后按顺序提交");
      });
    }
    var pads = [];
    form.querySelectorAll("canvas[data-pad]").forEach(function (c) { pads.push({ el: c, pad: pad(c) }); });
    var clear = form.querySelector("[data-clear]");
    if (clear) clear.addEventListener("click", function () { pads.forEach(function (p) { p.pad.clear(); }); });
    form.querySelectorAll("[data-toggle]").forEach(function (box) {
      var key = box.getAttribute("data-toggle");
      function apply() {
        form.querySelectorAll('[data-when="' + key + '"]').forEach(function (el) { el.hidden = !box.checked; });
        form.querySelectorAll('[data-when-not="' + key + '"]').forEach(function (el) { el.hidden = box.checked; });
        pads.forEach(function (p) { if (!p.el.closest("[hidden]") && !p.pad.ready()) p.pad.clear(); });
      }
      box.addEventListener("change", apply); apply();
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var unsaved = document.querySelector("#record-form");
      if (unsaved && unsaved.__hasUnsaved && unsaved.__hasUnsaved()) {
        showErrors(form, { body: { message: "抽样单有尚未提交到服务器的修改，请先点“保存抽样单到服务器”，再签字" } });
        return;
      }
      var v = valuesOf(form);
      var body = { signer: form.querySelector('[name="signer"]').value, name: v.name || "", refused: !!v.refused,
        refusal_reason: v.refusal_reason || "", witness_name: v.witness_name || "", image_png_base64: "", witness_image_png_base64: "" };
      var missing = false;
      pads.forEach(function (p) {
        var field = p.el.getAttribute("data-pad");
        if (p.el.closest("[hidden]")) return;
        if (p.pad.empty() && !p.el.hasAttribute("data-optional")) missing = true;
        body[field] = p.pad.png();
      });
      if (missing) { showErrors(form, { body: { message: "请先在框内手写签名", errors: [{ field: "image_png_base64", message: "请先在框内手写签名" }] } }); return; }
      if (!confirmed(form)) return;
      var label = body.signer === "self" ? "抽样人员签字" : (body.refused ? "被抽样单位拒绝签字" : "被抽样单位签字");
      function offline() {
        return queue("sign", "POST", base + "/record/signatures", body, label, { signer: body.signer }).then(function () {
          dropDraft(form.getAttribute("data-draft"));
          queuedNote(form, label + "已放入待同步（网络不通，保存在本机），联网后在抽样单之后按顺序提交");
        });
      }
      // With a record waiting in the outbox, the signature waits behind it.
      (outbox ? outbox.list(taskId) : Promise.resolve([])).then(function (l) {
        if (l.some(function (x) { return x.kind === "record" || x.kind === "sign"; })) return offline();
        return call("POST", base + "/record/signatures", body).then(function () {
          dropDraft(form.getAttribute("data-draft"));
          window.location.reload();
        }, function (e) { if (e.offline && outbox) return offline(); showErrors(form, e); });
      });
    });
  });

  // ---- evidence: queued in IndexedDB, uploaded in resumable chunks ---------------------------
  var list = root.querySelector("[data-uploads]");
  var dbp = null;
  function db() {
    if (dbp) return dbp;
    dbp = new Promise(function (ok, fail) {
      if (!window.indexedDB) return fail(new Error("no indexedDB"));
      var rq = indexedDB.open("choucha-uploads", 1);
      rq.onupgradeneeded = function () { rq.result.createObjectStore("jobs", { keyPath: "key" }); };
      rq.onsuccess = function () { ok(rq.result); };
      rq.onerror = function () { fail(rq.error); };
    });
    return dbp;
  }
  function store(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (ok, fail) {
        var tx = d.transaction("jobs", mode); var out = fn(tx.objectStore("jobs"));
        tx.oncomplete = function () { ok(out && out.result); }; tx.onerror = function () { fail(tx.error); };
      });
    });
  }
  function saveJob(j) { return store("readwrite", function (s) { return s.put(j); }).catch(function () { /* memory only */ }); }
  function dropJob(j) { return store("readwrite", function (s) { return s.delete(j.key); }).catch(function () { /* ignore */ }); }
  function allJobs() { return store("readonly", function (s) { return s.getAll(); }).catch(function () { return []; }); }

  function row(job) {
    if (job.li) return job.li;
    var li = document.createElement("li");
    li.setAttribute("data-testid", "upload-row");
    li.innerHTML = '<div><strong class="n"></strong> <span class="muted c"></span></div><progress max="100" value="0"></progress><div class="s" data-testid="upload-status"></div><code class="sha" data-testid="upload-sha"></code>';
    li.querySelector(".n").textContent = job.file.name;
    li.querySelector(".c").textContent = job.label || job.category;
    list.appendChild(li);
    job.li = li;
    return li;
  }
  function show(job, pct, text) {
    var li = row(job);
    if (pct !== null) li.querySelector("progress").value = pct;
    li.querySelector(".s").textContent = text;
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function sha256(file) {
    if (!(window.crypto && crypto.subtle) || file.size > 256 * 1024 * 1024) return Promise.resolve(null);
    return file.arrayBuffer().then(function (b) { return crypto.subtle.digest("SHA-256", b); }).then(function (h) {
      return Array.prototype.map.call(new Uint8Array(h), function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    }, function () { return null; });
  }

  function refreshChecklist() {
    return call("GET", base + "/evidence").then(function (ev) {
      (ev.checklist || []).forEach(function (c) {
        var li = root.querySelector('.checklist li[data-category="' + c.category + '"]');
        if (!li) return;
        li.querySelector("[data-count]").textContent = c.count;
        var done = c.count > 0 || !!c.reason;
        li.classList.toggle("done", done);
        var cat = li.querySelector(".cat");
        cat.textContent = (done ? "✔ " : "○ ") + c.label + " ";
        if (c.required) {
          var b = document.createElement("span");
          b.className = "badge"; b.title = "实施细则要求"; b.textContent = "必需";
          cat.appendChild(b);
        }
        if (c.count > 0) { var ex = li.querySelector("details.explain"); if (ex) ex.hidden = true; }
      });
      // Rule 7: the categories the rules require, each with a photo or a reason, before signing.
      var labels = (ev.missing || []).map(function (m) {
        var c = (ev.checklist || []).filter(function (x) { return x.category === m; })[0];
        return c ? c.label : m;
      });
      var m = root.querySelector('[data-testid="evidence-missing"]');
      if (m) {
        m.innerHTML = labels.length
          ? "签字前尚缺：<strong></strong>。每类至少一张照片或一段视频；确实无法拍摄的，请注明原因（规则7）。"
          : "实施细则要求的证据已齐全，可以签字。";
        if (labels.length) m.querySelector("strong").textContent = labels.join("、");
      }
      root.querySelectorAll("[data-evidence-gate]").forEach(function (g) { g.hidden = labels.length === 0; });
    }, function () { /* next time */ });
  }

  var running = {};
  function run(job) {
    if (running[job.key]) return running[job.key];
    var p = (function loop(attempt) {
      return step(job).then(function (done) {
        if (!done) return loop(0);
        return null;
      }, function (e) {
        if (e && (e.offline || e.retry || (e.status && e.status >= 500))) {
          var wait = Math.min(1000 * Math.pow(2, attempt), 5000);
          show(job, null, "连接中断：已上传 " + pct(job) + "%，" + Math.round(wait / 1000) + " 秒后自动从服务器已收到的位置继续…");
          say("网络不通：有文件尚未上传完，恢复后自动继续");
          return sleep(wait).then(function () { return loop(attempt + 1); });
        }
        if (e && e.auth) { show(job, null, "登录已过期：请重新登录，文件保存在本机，登录后回到本页继续上传"); return null; }
        show(job, null, "上传失败：" + problemText(e));
        return dropJob(job);
      });
    })(0);
    running[job.key] = p;
    return p;
  }
  function pct(job) { return job.file.size ? Math.floor((job.offset || 0) * 100 / job.file.size) : 100; }

  // One step: start the upload, or ask the server its offset and send the next chunk. True when done.
  function step(job) {
    if (!job.uploadId) {
      show(job, 0, "正在计算校验值…");
      return (job.expected !== undefined ? Promise.resolve(job.expected) : sha256(job.file)).then(function (h) {
        job.expected = h;
        return call("POST", base + "/uploads", {
          category: job.category, file_name: job.file.name, content_type: job.file.type || "application/octet-stream",
          total_size: job.file.size, expected_sha256: h
        });
      }).then(function (u) { job.uploadId = u.id; job.offset = u.received; return saveJob(strip(job)).then(function () { return false; }); });
    }
    var url = "/api/v1/uploads/" + job.uploadId;
    var next = job.known ? Promise.resolve({ received: job.offset, state: "open" }) : call("GET", url);
    return next.then(function (u) {
      say("");
      if (u.state === "complete") return finish(job, u);
      job.offset = u.received; job.known = true;
      show(job, pct(job), "已上传 " + pct(job) + "%");
      var end = Math.min(job.offset + CHUNK, job.file.size);
      return call("PUT", url + "?offset=" + job.offset, undefined, job.file.slice(job.offset, end)).then(function (v) {
        job.offset = v.received;
        if (v.state === "complete") return finish(job, v);
        show(job, pct(job), "已上传 " + pct(job) + "%");
        return false;
      }, function (e) {
        job.known = false;
        if (e.status === 409 && e.body && typeof e.body.offset === "number") { job.offset = e.body.offset; return false; }
        if (e.status === 409 && e.body && e.body.code === "upload_busy") { throw { retry: true }; }
        throw e;
      });
    });
  }
  function strip(job) { return { key: job.key, task: job.task, category: job.category, label: job.label, file: job.file, uploadId: job.uploadId, expected: job.expected }; }
  function finish(job, u) {
    var sha = u.evidence ? u.evidence.sha256 : "";
    show(job, 100, "上传完成，已保存到服务器");
    row(job).querySelector(".sha").textContent = "SHA-256 " + sha;
    row(job).setAttribute("data-done", "1");
    return dropJob(job).then(refreshChecklist).then(function () { return true; });
  }

  root.querySelectorAll("input[data-upload]").forEach(function (input) {
    input.addEventListener("change", function () {
      var li = input.closest("li");
      var label = li ? li.querySelector(".cat").textContent.replace(/^[✔○]\s*/, "") : "";
      Array.prototype.forEach.call(input.files || [], function (file) {
        var job = { key: taskId + ":" + Date.now() + ":" + Math.random().toString(36).slice(2), task: taskId,
          category: input.getAttribute("data-upload"), label: label, file: file };
        saveJob(strip(job)).then(function () {
          show(job, 0, "已保存在本机，等待上传");
          // Offline, the photo also takes its place in the outbox: signatures made after it wait for it.
          if (outbox && navigator.onLine === false) return queue("evidence", "POST", base + "/uploads", null, "现场证据：" + file.name, { jobKey: job.key });
        }).then(function () { run(job); });
      });
      input.value = "";
    });
  });
  // The outbox waits for a queued photo's upload (resumed from the job kept in IndexedDB).
  window.chouchaUploads = {
    task: taskId,
    finish: function (key) {
      if (running[key]) return running[key];
      return allJobs().then(function (jobs) {
        var j = (jobs || []).filter(function (x) { return x.key === key; })[0];
        return j ? run(j) : null;
      });
    }
  };
  // Uploads left over from before a reload or a lost connection continue by themselves.
  if (list) {
    allJobs().then(function (jobs) {
      (jobs || []).filter(function (j) { return j.task === taskId; }).forEach(function (j) {
        show(j, null, "继续上传（文件保存在本机）…"); run(j);
      });
    });
    window.addEventListener("online", function () { say(""); });
  }
  window.addEventListener("offline", function () { say("网络已断开：填写的内容保存在本机，恢复后自动提交和继续上传"); });
})();
