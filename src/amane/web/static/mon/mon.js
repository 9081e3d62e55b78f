/* Crime-monitoring pages: small enhancements that need no inline script (the CSP forbids it). */
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest ? ev.target.closest("[data-print]") : null;
    if (btn) {
      ev.preventDefault();
      window.print();
    }
  });
})();
