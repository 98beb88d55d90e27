/* The /verify page works without this script. It only adds dropping a badge image (PNG or SVG)
   onto the form: the dropped file goes into the form's file input, as if chosen with "Browse".
   Messages come from the form's data-drop-* attributes, so they are translated with the page. */
(function () {
  "use strict";
  var form = document.getElementById("verify-form");
  var input = form && form.querySelector('input[type="file"]');
  var status = document.getElementById("drop-status");
  if (!form || !input || !status || typeof DataTransfer === "undefined") {
    return;
  }

  function hasFiles(event) {
    var types = event.dataTransfer ? event.dataTransfer.types : [];
    return Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  function isBadgeImage(file) {
    return file.type === "image/png" || file.type === "image/svg+xml" || /\.(png|svg)$/i.test(file.name);
  }

  function say(template, name) {
    status.textContent = (template || "").replace("%s", name || "");
    status.hidden = false;
  }

  function highlight(on) {
    form.style.outline = on ? "3px dashed #0b4f8a" : "";
    form.style.outlineOffset = on ? "6px" : "";
  }

  say(form.getAttribute("data-drop-hint"));

  form.addEventListener("dragover", function (event) {
    if (!hasFiles(event)) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    highlight(true);
  });
  form.addEventListener("dragleave", function (event) {
    if (!event.relatedTarget || !form.contains(event.relatedTarget)) { highlight(false); }
  });
  form.addEventListener("drop", function (event) {
    if (!hasFiles(event)) { return; }
    event.preventDefault();
    highlight(false);
    var file = event.dataTransfer.files[0];
    if (!file) { return; }
    if (!isBadgeImage(file)) {
      say(form.getAttribute("data-drop-refused"), file.name);
      return;
    }
    var chosen = new DataTransfer();
    chosen.items.add(file);
    input.files = chosen.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    say(form.getAttribute("data-drop-chosen"), file.name);
  });
  // A file dropped beside the form would make the browser leave the page to open it.
  document.addEventListener("dragover", function (event) { if (hasFiles(event)) { event.preventDefault(); } });
  document.addEventListener("drop", function (event) { if (hasFiles(event)) { event.preventDefault(); } });
}());
