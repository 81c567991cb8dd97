// Choucha page helpers: confirmation before destructive actions, the CSRF header for htmx, and
// "back" links (`data-back`: the previous page, else the link's own address). No inline script: the
// Content-Security-Policy allows only these files.
document.addEventListener("click", function (e) {
  var el = e.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) { e.preventDefault(); e.stopPropagation(); }
}, true);
document.addEventListener("htmx:configRequest", function (e) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { e.detail.headers["X-CSRF-Token"] = meta.getAttribute("content"); }
});
document.addEventListener("click", function (e) {
  var el = e.target.closest("[data-back]");
  if (el && window.history.length > 1) { e.preventDefault(); window.history.back(); }
});
