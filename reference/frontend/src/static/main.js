// Client bootstrap: reads the page's data and calls the API, keeping the session's
// tokens for the pages that follow.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("__KARIGAR_DATA__").textContent);
  function call(method, path, body, token) {
    var headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers["Authorization"] = "Bearer " + token;
    return fetch(data.apiUrl + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j }; }); });
  }
  var session = {
    token: function () { return window.sessionStorage.getItem("karigar.access_token"); },
    keep: function (auth) {
      window.sessionStorage.setItem("karigar.access_token", auth.access_token);
      window.sessionStorage.setItem("karigar.refresh_token", auth.refresh_token);
    },
  };
  window.karigar = {
    data: data,
    session: session,
    post: function (path, body) { return call("POST", path, body, session.token()); },
    get: function (path) { return call("GET", path, undefined, session.token()); },
  };
})();
