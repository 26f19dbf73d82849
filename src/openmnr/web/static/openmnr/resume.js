// After step-up: send the kept form again at once (accounts/stepup.py). No inline script: CSP.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form) { form.submit(); }
});
