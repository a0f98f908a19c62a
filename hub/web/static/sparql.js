// The SPARQL editor: CodeMirror over a textarea, queries run with fetch against /sparql.
(function () {
  "use strict";
  var script = document.currentScript;
  var examples = JSON.parse(document.getElementById("examples").textContent);
  var form = document.getElementById("sparql-form");
  var select = document.getElementById("example");
  var errorBox = document.getElementById("error");
  var status = document.getElementById("status");
  var results = document.getElementById("results");
  var csv = document.getElementById("csv");
  var editor = CodeMirror.fromTextArea(document.getElementById("query"), {
    mode: "application/sparql-query", lineNumbers: true, viewportMargin: Infinity,
    screenReaderLabel: document.querySelector("label[for=query]").textContent,
    extraKeys: { "Ctrl-Enter": function () { run(); }, Tab: false, "Shift-Tab": false },
  });
  window.maillageEditor = editor;
  var token = document.getElementById("token");
  var KEY = "maillage-token";  // the same key as the operations page: one token per tab
  token.value = sessionStorage.getItem(KEY) || "";
  token.addEventListener("input", function () { sessionStorage.setItem(KEY, token.value); });

  function updateCsv() {
    csv.href = "/sparql?" + new URLSearchParams({ query: editor.getValue(), format: "csv" }).toString();
  }
  editor.on("change", updateCsv);
  select.addEventListener("change", function () {
    if (examples[select.value] !== undefined) { editor.setValue(examples[select.value]); }
  });

  function cell(term) {
    var td = document.createElement("td");
    if (!term) { return td; }
    if (term.type === "uri") {
      var a = document.createElement("a");
      a.href = "/ui/entity?iri=" + encodeURIComponent(term.value);
      a.textContent = term.value;
      td.appendChild(a);
    } else {
      td.textContent = term.value;
      if (term["xml:lang"]) { td.lang = term["xml:lang"]; }
    }
    return td;
  }

  function table(data) {
    var vars = data.head.vars || [];
    var t = document.createElement("table");
    t.id = "result-table";
    var head = t.createTHead().insertRow();
    vars.forEach(function (v) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = v;
      head.appendChild(th);
    });
    var body = t.createTBody();
    data.results.bindings.forEach(function (b) {
      var row = body.insertRow();
      vars.forEach(function (v) { row.appendChild(cell(b[v])); });
    });
    return t;
  }

  function run() {
    errorBox.hidden = true;
    errorBox.textContent = "";
    results.textContent = "";
    status.textContent = script.dataset.running;
    var headers = {
      "Content-Type": "application/x-www-form-urlencoded",
      Accept: "application/sparql-results+json, text/turtle;q=0.9",
    };
    if (token.value) { headers.Authorization = "Bearer " + token.value; }
    fetch("/sparql", {
      method: "POST",
      headers: headers,
      body: new URLSearchParams({ query: editor.getValue() }).toString(),
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      if (!response.ok) {
        return response.text().then(function (text) {
          var message = text;
          try { message = JSON.parse(text).error || text; } catch (e) { /* plain text */ }
          throw new Error(response.status + " — " + message);
        });
      }
      if (type.indexOf("json") < 0) {
        return response.text().then(function (text) {
          var pre = document.createElement("pre");
          pre.textContent = text;
          results.appendChild(pre);
          status.textContent = "";
        });
      }
      return response.json().then(function (data) {
        if (typeof data.boolean === "boolean") {
          status.textContent = String(data.boolean);
          return;
        }
        results.appendChild(table(data));
        status.textContent = data.results.bindings.length + " " + script.dataset.rows;
      });
    }).catch(function (error) {
      status.textContent = "";
      errorBox.textContent = script.dataset.failed + " : " + error.message;
      errorBox.hidden = false;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    editor.save();
    run();
  });
  updateCsv();
})();
