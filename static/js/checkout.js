// One click places one order. The form's idempotency key already makes a second submit return
// the same order; this only spares the customer a second wait.
document.querySelectorAll("form[data-once]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
  });
});
