/*
 * Lists of reports being built update in place, without reloading the page (a
 * <meta http-equiv="refresh"> moved the reader and the keyboard back to the top every few
 * seconds: WCAG 2.2.1, 3.2.5). Every 5 seconds the page is fetched again and the element
 * marked data-refresh-target is replaced; the status line (role=status) says when
 * everything is ready. Without scripts the page offers a link to refresh it.
 */
(function () {
  "use strict";
  var status = document.querySelector("[data-refresh-status]");
  var target = document.querySelector("[data-refresh-target]");
  if (!status || !target || !window.fetch || !window.DOMParser) { return; }
  var timer = null;
  function poll() {
    fetch(window.location.href, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var freshTarget = fresh.querySelector("[data-refresh-target]");
        if (freshTarget) {
          target.replaceWith(document.importNode(freshTarget, true));
          target = document.querySelector("[data-refresh-target]");
        }
        if (fresh.querySelector("[data-refresh-status]")) {
          timer = window.setTimeout(poll, 5000);
        } else {
          status.textContent = status.getAttribute("data-done-text");
        }
      })
      .catch(function () { timer = window.setTimeout(poll, 15000); });
  }
  timer = window.setTimeout(poll, 5000);
})();
