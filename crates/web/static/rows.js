// Editable table rows (plan items, implementation-rule tests) without inline script: a button
// `data-add-row="<tbody id>" data-template="<template id>"` appends a copy of the template's row;
// a `.remove-row` button in a row removes it, or empties the last row left.
document.querySelectorAll("[data-add-row]").forEach(function (btn) {
  var body = document.getElementById(btn.getAttribute("data-add-row"));
  var tpl = document.getElementById(btn.getAttribute("data-template"));
  if (!body || !tpl) { return; }
  btn.addEventListener("click", function () {
    body.appendChild(tpl.content.cloneNode(true));
  });
  body.addEventListener("click", function (e) {
    var b = e.target.closest(".remove-row");
    if (!b) { return; }
    var tr = b.closest("tr");
    if (body.querySelectorAll(":scope > tr").length > 1) { tr.remove(); return; }
    tr.querySelectorAll("input").forEach(function (i) { i.value = ""; });
    tr.querySelectorAll("select").forEach(function (s) { s.value = ""; });
  });
});
