/* Cyber-watch pages: small enhancements that need no inline script (the CSP forbids it).
   - a "copy" button beside an address shown as text (never a live link: it may be a dark-web one);
   - the upload form posts through XMLHttpRequest to show its progress, then shows the answer
     (the ingest report) in place; without JavaScript the form posts normally. */
(function () {
  "use strict";

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest ? ev.target.closest("[data-copy]") : null;
    if (!btn) { return; }
    ev.preventDefault();
    var el = document.querySelector(btn.getAttribute("data-copy"));
    if (!el || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(el.textContent || "").then(function () {
      var label = btn.textContent;
      btn.textContent = btn.getAttribute("data-done") || label;
      window.setTimeout(function () { btn.textContent = label; }, 1500);
    });
  });

  function showCopyButtons() {
    if (!navigator.clipboard) { return; }
    document.querySelectorAll("[data-copy][hidden]").forEach(function (b) { b.hidden = false; });
  }

  function replaceMain(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("main");
    var main = document.querySelector("main");
    if (!fresh || !main) { return false; }
    main.innerHTML = fresh.innerHTML;
    if (doc.title) { document.title = doc.title; }
    bindUpload();
    showCopyButtons();
    var report = document.getElementById("report") || document.querySelector(".alert-error, .field-errors");
    if (report && report.scrollIntoView) { report.scrollIntoView({block: "start"}); }
    return true;
  }

  function bindUpload() {
    var form = document.getElementById("upload-form");
    if (!form || form.getAttribute("data-bound") || !window.FormData || !window.XMLHttpRequest) { return; }
    form.setAttribute("data-bound", "1");
    form.addEventListener("submit", function (ev) {
      if (!form.checkValidity()) { return; }
      ev.preventDefault();
      var box = document.getElementById("upload-progress");
      var bar = box.querySelector("progress");
      var status = box.querySelector(".upload-status");
      var button = form.querySelector("button[type=submit]");
      box.hidden = false;
      button.disabled = true;
      bar.value = 0;
      status.textContent = form.getAttribute("data-sending") || "";
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action"));
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.value = Math.round(100 * e.loaded / e.total);
          status.textContent = (form.getAttribute("data-sending") || "") + " " + bar.value + "%";
        }
      });
      xhr.upload.addEventListener("load", function () {
        bar.removeAttribute("value");  // indeterminate while the server reads and classifies
        status.textContent = form.getAttribute("data-processing") || "";
      });
      xhr.addEventListener("load", function () {
        var type = xhr.getResponseHeader("Content-Type") || "";
        if (type.indexOf("text/html") === 0 && replaceMain(xhr.responseText)) { return; }
        button.disabled = false;
        status.textContent = (form.getAttribute("data-failed") || "") + " (" + xhr.status + ")";
      });
      xhr.addEventListener("error", function () {
        button.disabled = false;
        status.textContent = form.getAttribute("data-failed") || "";
      });
      xhr.send(new FormData(form));
    });
  }

  function init() {
    showCopyButtons();
    bindUpload();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
