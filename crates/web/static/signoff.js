// Signature pads. `window.chouchaPad(canvas)` turns a canvas into a pad (finger, pen or mouse) and
// returns {clear, ready, empty, png}; the sampler's task page (sampling.js) uses it too. Plain forms
// marked `data-signoff` (the report's prepare / review / approve) get their pad wired here: on
// submit the drawing goes into the hidden `signature_png_base64` as a PNG, and an empty pad is
// refused on the page (the service refuses it too).
(function () {
  "use strict";
  function pad(canvas) {
    var ctx = canvas.getContext("2d");
    var drawn = false, last = null, ready = false;
    function size() {
      var r = canvas.getBoundingClientRect();
      if (!r.width) return;
      ready = true;
      var dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(r.width * dpr); canvas.height = Math.round(r.height * dpr);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#111";
      drawn = false;
    }
    function at(e) { var r = canvas.getBoundingClientRect(); return { x: e.clientX - r.left, y: e.clientY - r.top }; }
    canvas.addEventListener("pointerdown", function (e) {
      if (!ready) size();
      e.preventDefault(); if (canvas.setPointerCapture) canvas.setPointerCapture(e.pointerId);
      last = at(e); ctx.beginPath(); ctx.arc(last.x, last.y, 1, 0, 2 * Math.PI); ctx.fill(); drawn = true;
      canvas.dispatchEvent(new Event("pad:drawn"));
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!last) return;
      var p = at(e); ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke(); last = p; drawn = true;
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (t) { canvas.addEventListener(t, function () { last = null; }); });
    size();
    return {
      clear: size,
      ready: function () { return ready; },
      empty: function () { return !drawn; },
      png: function () { return drawn ? canvas.toDataURL("image/png").split(",")[1] : ""; }
    };
  }
  window.chouchaPad = pad;

  function wire() {
    // Forms where a signature is optional (e.g. a delivery by post): the drawing is sent when there is one.
    document.querySelectorAll("form[data-signoff-optional]").forEach(function (form) {
      var canvas = form.querySelector("canvas[data-pad]");
      var hidden = form.querySelector("input[type=hidden][name$=png_base64]");
      if (!canvas || !hidden) return;
      var p = pad(canvas);
      form.addEventListener("submit", function () { hidden.value = p.png(); });
    });
    document.querySelectorAll("form[data-signoff]").forEach(function (form) {
      var canvas = form.querySelector("canvas[data-pad]");
      var hidden = form.querySelector("input[name=signature_png_base64]");
      var err = form.querySelector("[data-pad-error]");
      if (!canvas || !hidden) return;
      var p = pad(canvas);
      canvas.addEventListener("pad:drawn", function () { if (err) err.hidden = true; });
      var clear = form.querySelector("[data-pad-clear]");
      if (clear) clear.addEventListener("click", function () { p.clear(); });
      // Signing with the stored signature: the pad is not needed (the server places the stored image).
      var stored = form.querySelector("input[data-use-stored]");
      var area = form.querySelector("[data-pad-area]");
      if (stored && area) stored.addEventListener("change", function () {
        area.hidden = stored.checked;
        if (!stored.checked && !p.ready()) p.clear();
        if (err) err.hidden = true;
      });
      form.addEventListener("submit", function (ev) {
        if (stored && stored.checked) { hidden.value = ""; return; }
        if (p.empty()) {
          ev.preventDefault();
          if (err) { err.textContent = "请先在签名框内签名"; err.hidden = false; }
          return;
        }
        hidden.value = p.png();
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire); else wire();
})();
