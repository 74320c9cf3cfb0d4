/* 100 New Faces — public portal. Progressive enhancement only: every page works without this file.
   - ballot: the candidates the signed-in voter already chose (listed by the personal block in
     data-chosen="id id …") are marked, and their buttons say so. Loaded by that personal block only
     (templates/flows/_ballot_personal.html): pages that are the same for everyone carry no script. */
(function () {
  "use strict";
  function markChosen() {
    var holder = document.querySelector("[data-chosen]");
    if (!holder) return;
    var ids = holder.getAttribute("data-chosen").split(/\s+/);
    var label = holder.getAttribute("data-chosen-label") || "";
    ids.forEach(function (id) {
      if (!id) return;
      var buttons = document.querySelectorAll('button.vote[value="' + id + '"]');
      Array.prototype.forEach.call(buttons, function (b) {
        b.setAttribute("aria-pressed", "true");
        b.disabled = true;
        if (label) b.firstChild.nodeValue = label;
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", markChosen);
  else markChosen();
})();
