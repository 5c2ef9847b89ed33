// Page behaviour: forms submit to the API and keep the tokens in memory.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-api]");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {};
      Array.prototype.forEach.call(form.elements, function (el) { if (el.name) body[el.name] = el.value; });
      window.karigar.post(form.getAttribute("data-api"), body).then(function (result) {
        var out = form.querySelector("output");
        if (out) out.textContent = result.status < 300 ? "Done." : (result.body.error || "Something went wrong.");
      });
    });
  });
})();
