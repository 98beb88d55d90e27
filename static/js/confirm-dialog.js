/* A form with data-confirm-title asks for confirmation in a <dialog> before it is sent, and then
   sends confirm=yes, so the server acts at once. Without this script (or without <dialog>), the
   form is sent as it is and the server answers with its confirmation page: the same question, on a
   page of its own. Words come from the form's data-confirm-* attributes (translated with the page). */
(function () {
  "use strict";
  if (typeof HTMLDialogElement === "undefined") {
    return;
  }
  document.querySelectorAll("form[data-confirm-title]").forEach(function (form) {
    var dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", form.id + "-dialog-title");
    var title = document.createElement("h2");
    title.id = form.id + "-dialog-title";
    title.textContent = form.getAttribute("data-confirm-title");
    var text = document.createElement("p");
    text.textContent = form.getAttribute("data-confirm-text") || "";
    var buttons = document.createElement("div");
    buttons.className = "actions";
    var yes = document.createElement("button");
    yes.type = "button";
    yes.className = "danger";
    yes.textContent = form.getAttribute("data-confirm-yes");
    var no = document.createElement("button");
    no.type = "button";
    no.className = "secondary";
    no.textContent = form.getAttribute("data-confirm-no");
    buttons.append(yes, no);
    dialog.append(title, text, buttons);
    document.body.append(dialog);

    form.addEventListener("submit", function (event) {
      if (form.querySelector('input[name="confirm"]')) {
        return;  // confirmed: let it go
      }
      event.preventDefault();
      dialog.showModal();
      no.focus();
    });
    no.addEventListener("click", function () {
      dialog.close();
    });
    yes.addEventListener("click", function () {
      var confirm = document.createElement("input");
      confirm.type = "hidden";
      confirm.name = "confirm";
      confirm.value = "yes";
      form.append(confirm);
      dialog.close();
      form.requestSubmit();
    });
  });
})();
