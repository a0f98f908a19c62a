// Operations: the bearer token is kept in sessionStorage. A browser sends no token when it
// navigates, so the page arrives with counts only; with a token, this script asks for the page
// again with it and puts the operator's view (quarantine, conflicts, matches) in place. The
// buttons POST to the API with the same token.
(function () {
  "use strict";
  var script = document.currentScript;
  var field = document.getElementById("token");
  var status = document.getElementById("op-status");
  var KEY = "maillage-token";
  var pending = null;
  field.value = sessionStorage.getItem(KEY) || "";

  function authorization() {
    return field.value ? { Authorization: "Bearer " + field.value } : {};
  }

  function reveal() {
    var hint = document.getElementById("operator-only");
    if (!field.value || !hint) { return; }
    fetch(window.location.href, { headers: authorization(), cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fetched = new DOMParser().parseFromString(html, "text/html");
        var state = fetched.getElementById("private-state");
        if (fetched.getElementById("operator-only") || !state) {
          status.textContent = script.dataset.refused;
          status.className = "err";
          return;
        }
        document.getElementById("private-state").replaceWith(document.importNode(state, true));
        hint.remove();
        status.textContent = "";
        status.className = "";
      })
      .catch(function (error) {
        status.textContent = script.dataset.failed + " : " + error.message;
        status.className = "err";
      });
  }

  field.addEventListener("input", function () {
    sessionStorage.setItem(KEY, field.value);
    clearTimeout(pending);
    pending = setTimeout(reveal, 300);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-post]") : null;
    if (!button) { return; }
    button.disabled = true;
    status.textContent = "…";
    fetch(button.dataset.post, { method: "POST", headers: authorization() })
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

  reveal();
})();
