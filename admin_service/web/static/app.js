// The admin UI's only script besides htmx. It lives in a static file because the Content-Security-Policy
// forbids inline scripts: nothing that comes from data can ever run on these pages.
(function () {
  "use strict";
  if (window.htmx) {
    htmx.config.allowEval = false;            // no hx-on / js: expressions
    htmx.config.allowScriptTags = false;      // swapped fragments never run scripts
    htmx.config.includeIndicatorStyles = false; // htmx would inject an inline <style>
    htmx.config.selfRequestsOnly = true;
    htmx.config.historyCacheSize = 0;         // pages hold personal data: no copies in localStorage
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx requests carry the session's CSRF token as a header (forms also carry it as a hidden field).
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRF-Token"] = token;
    }
  });

  // <form data-confirm="..."> (or the <button data-confirm> that submits it) asks before an irreversible
  // step (publish, close, finalise; not the preview button of the same form).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = button && button.getAttribute && button.getAttribute("data-confirm");
    question = question || (form && form.getAttribute ? form.getAttribute("data-confirm") : null);
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Filter forms marked data-autosubmit submit themselves when a select changes.
  document.addEventListener("change", function (event) {
    var el = event.target;
    var form = el && el.form;
    if (form && form.hasAttribute("data-autosubmit") && el.tagName === "SELECT") {
      if (window.htmx && form.hasAttribute("hx-get")) {
        htmx.trigger(form, "submit");
      } else {
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
    }
  });
})();
