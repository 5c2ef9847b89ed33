// Client bootstrap: reads the page's data and wires forms to the API.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("__KARIGAR_DATA__").textContent);
  function post(path, body) {
    return fetch(data.apiUrl + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j }; }); });
  }
  window.karigar = { data: data, post: post };
})();
