// Page behaviour: forms submit to the API; a sign-up or log-in keeps its tokens and
// greets the user by name; the search lists services; the dashboard lists requests.
(function () {
  "use strict";
  var karigar = window.karigar;
  function fields(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (el) { if (el.name) body[el.name] = el.value; });
    return body;
  }
  function failure(result) { return result.body.error || "Something went wrong."; }
  Array.prototype.forEach.call(document.querySelectorAll("form[data-api]"), function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var out = form.querySelector("output");
      karigar.post(form.getAttribute("data-api"), fields(form)).then(function (result) {
        if (result.status >= 300) { out.textContent = failure(result); return; }
        if (!result.body.access_token) { out.textContent = "Done."; return; }
        karigar.session.keep(result.body);
        return karigar.get("/auth/me").then(function (me) {
          out.textContent = me.status < 300 ? "Signed in as " + me.body.name + "." : failure(me);
        });
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("form[data-search]"), function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var query = new URLSearchParams(fields(form)).toString();
      karigar.get(form.getAttribute("data-search") + "?" + query).then(function (result) {
        var out = form.querySelector("output");
        var list = form.querySelector("ul");
        list.textContent = "";
        if (result.status >= 300) { out.textContent = failure(result); return; }
        result.body.services.forEach(function (service) {
          var item = document.createElement("li");
          item.textContent = service.name + " (" + service.provider.business_name + ")";
          list.appendChild(item);
        });
        out.textContent = result.body.total + " services found.";
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-requests]"), function (el) {
    if (!karigar.session.token()) { el.textContent = "Log in to see your requests."; return; }
    karigar.get(el.getAttribute("data-requests")).then(function (result) {
      el.textContent = result.status < 300
        ? "You have " + result.body.total + " requests."
        : failure(result);
    });
  });
})();
