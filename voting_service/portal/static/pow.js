/* 100 New Faces: proof of work (ALTCHA format) for the challenge page. The page's form carries the challenge in
   data-challenge; a Web Worker (pow-worker.js, same origin) finds the number, this script puts the solution in
   the hidden field and sends the form again. Without this script the page explains what to do. */
(function () {
  "use strict";
  function start() {
    var form = document.getElementById("pow-form");
    if (!form || !window.Worker || !window.JSON || !window.btoa) return;
    var status = document.getElementById("pow-status");
    var button = document.getElementById("pow-submit");
    var challenge;
    try { challenge = JSON.parse(form.getAttribute("data-challenge")); } catch (e) { return; }
    status.hidden = false;
    var worker = new Worker(form.getAttribute("data-worker"));
    worker.onmessage = function (ev) {
      var n = ev.data && ev.data.number;
      if (typeof n !== "number") {
        status.textContent = status.getAttribute("data-error");
        return;
      }
      var payload = {algorithm: challenge.algorithm, challenge: challenge.challenge, number: n,
                     salt: challenge.salt, signature: challenge.signature};
      form.elements["challenge_solution"].value = btoa(JSON.stringify(payload));
      status.textContent = status.getAttribute("data-done");
      button.hidden = false;
      form.submit();
    };
    worker.onerror = function () { status.textContent = status.getAttribute("data-error"); button.hidden = false; };
    worker.postMessage(challenge);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
