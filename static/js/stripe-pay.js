// Stripe's Payment Element on the order page (only when Stripe is configured: the page loads
// Stripe.js from js.stripe.com). The card details go to Stripe, never to the shop; Stripe's
// webhook then marks the order paid, and this page shows it.
(function () {
  var root = document.getElementById("stripe-payment");
  if (!root || typeof Stripe === "undefined") return;
  var stripe = Stripe(root.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: root.dataset.clientSecret, locale: document.documentElement.lang });
  elements.create("payment").mount("#stripe-payment-element");
  root.querySelector("form").addEventListener("submit", function (event) {
    event.preventDefault();
    var message = document.getElementById("stripe-payment-message");
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: root.dataset.returnUrl } })
      .then(function (result) { if (result.error) message.textContent = result.error.message; });
  });
})();
