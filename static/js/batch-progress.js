/* The batch page works without this script (it then refreshes itself every few seconds while the
   batch runs). With it, the page stays put: it asks the batch's progress.json every few seconds and
   updates the progress bar, the counts, the state and the rows of the page shown that got their
   badge, and stops asking once the batch is finished or has stopped. Words come from the server
   (progress.json is answered in the page's language) and from the page's data-* attributes. */
(function () {
  "use strict";
  var box = document.getElementById("batch-progress");
  if (!box || !box.hasAttribute("data-running") || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-url");
  var bar = box.querySelector("progress");
  var status = document.getElementById("batch-running");
  var failures = 0;

  function set(field, value) {
    var node = box.querySelector('[data-field="' + field + '"]');
    if (node) {
      node.textContent = String(value);
    }
  }

  function showAwarded(rows) {
    rows.forEach(function (row) {
      var cell = document.getElementById("row-" + row.row + "-badge");
      if (cell && !cell.querySelector("a")) {
        var link = document.createElement("a");
        link.href = row.url;
        link.textContent = row.label;
        cell.replaceChildren(link);
      }
    });
  }

  function update(data) {
    if (bar) {
      bar.max = data.total;
      bar.value = data.issued;
      bar.textContent = data.percent + "%";
    }
    set("issued_label", data.issued_label);
    set("percent", data.percent);
    set("state_label", data.state_label);
    showAwarded(data.awarded || []);
    if (!data.running || data.stalled) {
      if (status) {
        status.textContent = status.getAttribute(data.state === "done" ? "data-done" : "data-stopped");
      }
      return false;
    }
    return true;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        if (update(data)) {
          window.setTimeout(poll, 3000);
        }
      })
      .catch(function () {
        failures += 1;  // a network hiccup: try again, more slowly, then give up (reloading still works)
        if (failures < 5) {
          window.setTimeout(poll, 3000 * failures);
        }
      });
  }

  window.setTimeout(poll, 2000);
})();
