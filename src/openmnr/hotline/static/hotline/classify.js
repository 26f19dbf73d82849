// Keyboard classification (hotline/forms.py ClassificationForm): the form's groups are taken in
// order; a digit picks that choice of the current group and moves on, 0 skips the group, Enter
// saves (the browser's own submit). Groups marked data-illegal-only are skipped when the chosen
// assessment is not illegal. In the flags group a digit toggles and Enter saves.
(function () {
  "use strict";
  var form = document.getElementById("classify-form");
  if (!form) { return; }
  var groups = Array.prototype.slice.call(form.querySelectorAll("fieldset[data-group]"));
  var current = 0;
  var illegal = (form.getAttribute("data-illegal") || "").split(" ");

  function assessmentIsIllegal() {
    var chosen = form.querySelector("input[name=assessment]:checked");
    return !chosen || illegal.indexOf(chosen.value) !== -1;
  }
  function applies(group) {
    return !(group.hasAttribute("data-illegal-only") && !assessmentIsIllegal());
  }
  function show() {
    groups.forEach(function (group, index) {
      group.classList.toggle("current", index === current);
      group.classList.toggle("skipped", !applies(group));
    });
    var status = document.getElementById("classify-keys");
    if (status) {
      status.textContent = current < groups.length
        ? "Now: " + groups[current].getAttribute("data-group") + " (digits choose, 0 skips, Enter saves)"
        : "Press Enter to save.";
    }
  }
  function advance() {
    current += 1;
    while (current < groups.length && !applies(groups[current])) { current += 1; }
    show();
  }
  form.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var target = event.target;
    if (target && (target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type === "text"))) { return; }
    if (event.key === "Enter" && target && target.tagName === "INPUT") {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (!/^[0-9]$/.test(event.key) || current >= groups.length) { return; }
    event.preventDefault();
    var group = groups[current];
    var inputs = group.querySelectorAll("input");
    var number = parseInt(event.key, 10);
    if (number === 0) { advance(); return; }
    var input = inputs[number - 1];
    if (!input) { return; }
    if (input.type === "checkbox") {
      input.checked = !input.checked;
      input.focus();
      return;
    }
    input.checked = true;
    input.focus();
    if (group.getAttribute("data-group") === "assessment" && !assessmentIsIllegal()) {
      form.querySelectorAll("fieldset[data-illegal-only] input").forEach(function (other) { other.checked = false; });
    }
    advance();
  });
  show();
  // Ready for the keyboard: the first choice of the first group has the focus.
  var first = groups.length ? groups[0].querySelector("input:checked") || groups[0].querySelector("input") : null;
  if (first) { first.focus(); }
})();
