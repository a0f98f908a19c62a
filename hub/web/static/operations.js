// Operations: the buttons POST to the API with the bearer token kept in sessionStorage.
(function () {
  "use strict";
  var script = document.currentScript;
  var field = document.getElementById("token");
  var status = document.getElementById("op-status");
  var KEY = "maillage-token";
  field.value = sessionStorage.getItem(KEY) || "";
  field.addEventListener("input", function () { sessionStorage.setItem(KEY, field.value); });

  document.querySelectorAll("button[data-post]").forEach(function (button) {
    button.addEventListener("click", function () {
      button.disabled = true;
      status.textContent = "…";
      var headers = {};
      if (field.value) { headers.Authorization = "Bearer " + field.value; }
      fetch(button.dataset.post, { method: "POST", headers: headers })
        .then(function (response) {
          return response.text().then(function (text) {
            var body = {};
            try { body = JSON.parse(text); } catch (e) { body = { error: text }; }
            if (!response.ok) { throw new Error(response.status + " — " + (body.error || text)); }
            return body;
          });
        })
        .then(function (body) {
          status.textContent = script.dataset.done + (body.summary ? " " + body.summary : "");
          status.className = "";
          if (button.dataset.remove) {
            var row = button.closest(button.dataset.remove);
            if (row) { row.remove(); }
          } else {
            button.disabled = false;
          }
        })
        .catch(function (error) {
          status.textContent = script.dataset.failed + " : " + error.message;
          status.className = "err";
          button.disabled = false;
        });
    });
  });
})();
