"""A stand-in for Stripe.js v3 in a real browser, served by Playwright instead of ``js.stripe.com``.

The machine running the tests cannot reach ``js.stripe.com``; the page still loads
``https://js.stripe.com/v3/`` by its real address, and :func:`serve_stripe_js` answers that
request (``page.route``), so the page's Content-Security-Policy is enforced on it as on the real
script: a policy that does not allow ``js.stripe.com`` blocks the stand-in as it would Stripe.js.

What it does, the small part of Stripe.js the shop uses (``static/js/stripe-pay.js``):

- ``Stripe(publishableKey)``: refuses anything but a ``pk_…`` key;
- ``stripe.elements({clientSecret, locale})``, ``elements.create("payment")``,
  ``element.mount(selector)``: like Stripe's, the Payment Element is an iframe from
  ``js.stripe.com`` (so ``frame-src`` is enforced too) holding a card form: card number, expiry,
  CVC, labelled in the page's language (French or English);
- ``stripe.confirmPayment({elements, confirmParams: {return_url}, redirect})``: reads the card from
  the frame (``postMessage``, as the real frames talk to their host), and POSTs it to
  ``{api_base}/v1/payment_intents/{id}/confirm``, form-encoded with the publishable key and the client
  secret, as Stripe.js does (a simple CORS request: no preflight); ``api_base`` is the Stripe API the
  shop is configured with (the local stand-in, ``tests/standins/stripe_api.py``), so ``connect-src``
  is enforced on it. A payment that went through sends the browser to ``return_url`` with Stripe's
  parameters (``payment_intent``, ``payment_intent_client_secret``, ``redirect_status``), the
  promise never resolving; a refusal resolves ``{error}`` with Stripe's error object (a declined
  card: ``card_error``, "Your card was declined."), an empty card number a ``validation_error``,
  an unreachable API an ``api_connection_error``, as Stripe.js does.

No inline script or style on the shop's page: the host script sets attributes and classes only.
Not done: other element types, 3-D Secure (``requires_action``), wallets, ``retrievePaymentIntent``.
"""

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, Route

STRIPE_JS_ORIGIN = "https://js.stripe.com"
STRIPE_JS_ROUTE = f"{STRIPE_JS_ORIGIN}/v3/**"
FRAME_PATH = "/v3/elements-inner-payment-standin.html"

STRIPE_JS = r"""/* Stripe.js v3 stand-in (tests/standins/stripe_js.py): not Stripe's code. */
(function () {
  "use strict";
  var API_BASE = __STRIPE_API_BASE__;
  var FRAME_ORIGIN = "https://js.stripe.com";
  var FRAME_URL = FRAME_ORIGIN + "__FRAME_PATH__";
  var CONNECTION_ERROR = "We are experiencing issues connecting to our payments provider. " +
    "You have not been charged. Please check your internet connection and try again.";
  var TEXT = {
    fr: { frame: "Cadre de saisie sécurisé pour le paiement",
          incomplete: "Le numéro de carte est incomplet." },
    en: { frame: "Secure payment input frame",
          incomplete: "Your card number is incomplete." }
  };

  function integrationError(message) {
    var error = new Error(message);
    error.name = "IntegrationError";
    return error;
  }

  function encode(params, prefix, out) {
    Object.keys(params).forEach(function (name) {
      var value = params[name];
      var key = prefix ? prefix + "[" + name + "]" : name;
      if (value === undefined || value === null) return;
      if (typeof value === "object") encode(value, key, out);
      else out.append(key, String(value));
    });
    return out;
  }

  function paymentElement(elements) {
    var handlers = {};
    var frame = null;
    var ready = false;
    var element = {
      on: function (event, handler) {
        (handlers[event] = handlers[event] || []).push(handler);
        if (event === "ready" && ready) handler({ elementType: "payment" });
        return element;
      },
      mount: function (target) {
        var container = typeof target === "string" ? document.querySelector(target) : target;
        if (!container || !container.nodeType) {
          throw integrationError("The selector you specified (" + target + ") applies to no DOM " +
            "elements that are currently on the page.\nMake sure the element exists on the page " +
            "before calling mount().");
        }
        if (frame) throw integrationError("This Element is already mounted.");
        container.classList.add("StripeElement");
        var wrapper = document.createElement("div");
        wrapper.className = "__PrivateStripeElement";
        frame = document.createElement("iframe");
        frame.name = "__privateStripeFrame" + Math.floor(Math.random() * 100000);
        frame.title = TEXT[elements._locale].frame;
        // Attributes, not inline styles: the page's CSP may refuse those.
        frame.setAttribute("frameborder", "0");
        frame.setAttribute("scrolling", "no");
        frame.setAttribute("allow", "payment *");
        frame.width = "100%";
        frame.height = "180";
        frame.src = FRAME_URL + "#locale=" + encodeURIComponent(elements._locale);
        frame.addEventListener("load", function () {
          ready = true;
          (handlers.ready || []).forEach(function (handler) { handler({ elementType: "payment" }); });
        });
        wrapper.appendChild(frame);
        container.appendChild(wrapper);
      },
      _collect: function () {
        return new Promise(function (resolve) {
          if (!frame || !frame.contentWindow) return resolve(null);
          var id = "c" + Math.random().toString(36).slice(2);
          var timer = setTimeout(function () { done(null); }, 5000);
          function done(card) {
            clearTimeout(timer);
            window.removeEventListener("message", listen);
            resolve(card);
          }
          function listen(event) {
            if (event.origin === FRAME_ORIGIN && event.data && event.data.id === id) done(event.data.card);
          }
          window.addEventListener("message", listen);
          frame.contentWindow.postMessage({ type: "stripe-standin:collect", id: id }, FRAME_ORIGIN);
        });
      }
    };
    return element;
  }

  function Stripe(publishableKey) {
    if (typeof publishableKey !== "string" || !/^pk_(test|live)_\w+$/.test(publishableKey)) {
      throw integrationError("Invalid value for Stripe(): apiKey should be a publishable key (pk_…). " +
        "You specified: " + publishableKey + ".");
    }
    var stripe = {};
    stripe.elements = function (options) {
      options = options || {};
      var secret = options.clientSecret;
      if (typeof secret !== "string" || !/^pi_\w+?_secret_\w+$/.test(secret)) {
        throw integrationError("Invalid value for elements(): clientSecret should be a client secret of " +
          "the form ${id}_secret_${secret}. You specified: " + secret + ".");
      }
      var language = String(options.locale || navigator.language || "en").slice(0, 2).toLowerCase();
      var elements = { _stripe: stripe, _clientSecret: secret, _locale: TEXT[language] ? language : "en" };
      var payment = null;
      elements.create = function (type) {
        if (type !== "payment") {
          throw integrationError("The Stripe.js stand-in only makes the payment Element, not " + type + ".");
        }
        if (payment) throw integrationError("Can only create one Element of type payment.");
        payment = paymentElement(elements);
        return payment;
      };
      elements.getElement = function (type) { return type === "payment" ? payment : null; };
      elements._payment = function () { return payment; };
      return elements;
    };
    stripe.confirmPayment = function (args) {
      args = args || {};
      var elements = args.elements;
      var confirmParams = args.confirmParams || {};
      var redirect = args.redirect || "always";
      if (!elements || elements._stripe !== stripe || !elements._payment()) {
        return Promise.reject(integrationError(
          "stripe.confirmPayment(): expected `elements` with a mounted payment Element."));
      }
      if (redirect === "always" && !confirmParams.return_url) {
        return Promise.reject(integrationError("stripe.confirmPayment(): the " +
          "`confirmParams.return_url` argument is required unless passing `redirect: 'if_required'`"));
      }
      var secret = elements._clientSecret;
      var intentId = secret.split("_secret_")[0];
      return elements._payment()._collect().then(function (card) {
        if (!card) return { error: { type: "api_connection_error", message: CONNECTION_ERROR } };
        var number = String(card.number || "").replace(/[\s-]/g, "");
        if (!number) {
          var incomplete = TEXT[elements._locale].incomplete;
          return { error: { type: "validation_error", code: "incomplete_number", message: incomplete } };
        }
        var params = {};
        Object.keys(confirmParams).forEach(function (name) { params[name] = confirmParams[name]; });
        params.payment_method_data = Object.assign({}, confirmParams.payment_method_data, {
          type: "card",
          card: { number: number, exp_month: card.exp_month, exp_year: card.exp_year, cvc: card.cvc }
        });
        params.expected_payment_method_type = "card";
        params.client_secret = secret;
        params.key = publishableKey;
        var body = encode(params, "", new URLSearchParams()).toString();
        return fetch(API_BASE + "/v1/payment_intents/" + encodeURIComponent(intentId) + "/confirm", {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: body,
          credentials: "omit"
        }).then(function (response) {
          return response.json().then(function (json) { return { ok: response.ok, json: json }; });
        }).then(function (answer) {
          if (!answer.ok) {
            var error = answer.json && answer.json.error;
            return { error: error || { type: "api_error", message: CONNECTION_ERROR } };
          }
          var intent = answer.json;
          if (intent.status === "requires_action") {
            var message = "The Stripe.js stand-in does no 3-D Secure.";
            return { error: { type: "invalid_request_error", message: message } };
          }
          if (redirect === "if_required") return { paymentIntent: intent };
          var url = new URL(confirmParams.return_url, window.location.href);
          url.searchParams.set("payment_intent", intent.id);
          url.searchParams.set("payment_intent_client_secret", secret);
          url.searchParams.set("redirect_status", intent.status);
          window.location.assign(url.toString());
          return new Promise(function () {});  // the page goes away
        }, function () {
          return { error: { type: "api_connection_error", message: CONNECTION_ERROR } };
        });
      });
    };
    return stripe;
  }

  window.Stripe = Stripe;
})();
"""

PAYMENT_FRAME_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Payment Element (Stripe.js stand-in)</title>
<style>
  body { margin: 0; padding: 2px; font: 15px system-ui, sans-serif; color: #30313d; }
  label { display: block; margin: 8px 0 4px; font-size: 14px; }
  input { box-sizing: border-box; width: 100%; padding: 9px 10px; border: 1px solid #d5d5dc;
          border-radius: 5px; font-size: 15px; }
  input:focus { outline: 2px solid #635bff; border-color: #635bff; }
  .row { display: flex; gap: 10px; } .row > div { flex: 1; }
  .note { margin: 8px 0 0; font-size: 11px; color: #6d6e78; }
</style></head>
<body>
<form id="card" autocomplete="off" novalidate>
  <label for="number" data-text="number"></label>
  <input id="number" name="cardnumber" inputmode="numeric" placeholder="1234 1234 1234 1234">
  <div class="row">
    <div><label for="expiry" data-text="expiry"></label>
      <input id="expiry" name="exp-date" inputmode="numeric"></div>
    <div><label for="cvc" data-text="cvc"></label>
      <input id="cvc" name="cvc" inputmode="numeric" placeholder="CVC"></div>
  </div>
  <p class="note" data-text="note"></p>
</form>
<script>
  var TEXT = {
    fr: { number: "Numéro de carte", expiry: "Date d\u2019expiration", cvc: "Code de sécurité",
          mmyy: "MM / AA",
          note: "Stripe.js de test (tests/standins/stripe_js.py)" },
    en: { number: "Card number", expiry: "Expiration date", cvc: "Security code", mmyy: "MM / YY",
          note: "Stripe.js stand-in (tests/standins/stripe_js.py)" }
  };
  var locale = new URLSearchParams(location.hash.slice(1)).get("locale");
  var text = TEXT[locale] || TEXT.en;
  document.documentElement.lang = TEXT[locale] ? locale : "en";
  document.querySelectorAll("[data-text]").forEach(function (node) {
    node.textContent = text[node.dataset.text];
  });
  document.getElementById("expiry").placeholder = text.mmyy;
  document.getElementById("card").addEventListener("submit", function (event) { event.preventDefault(); });
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !event.data || event.data.type !== "stripe-standin:collect") return;
    var expiry = document.getElementById("expiry").value.split("/");
    event.source.postMessage({
      id: event.data.id,
      card: {
        number: document.getElementById("number").value,
        exp_month: (expiry[0] || "").trim(),
        exp_year: (expiry[1] || "").trim(),
        cvc: document.getElementById("cvc").value
      }
    }, event.origin);
  });
</script>
</body></html>
"""


@dataclass
class StripeJs:
    """The stand-in as served to one page; ``served`` lists the paths the browser asked for."""

    api_base: str
    served: list[str] = field(default_factory=list)

    @property
    def script(self) -> str:
        return STRIPE_JS.replace("__STRIPE_API_BASE__", json.dumps(self.api_base.rstrip("/"))).replace(
            "__FRAME_PATH__", FRAME_PATH
        )

    def handle(self, route: Route) -> None:
        path = urlsplit(route.request.url).path
        self.served.append(path)
        if path in {"/v3", "/v3/"}:
            route.fulfill(
                status=200,
                content_type="application/javascript; charset=utf-8",
                headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"},
                body=self.script,
            )
        elif path == FRAME_PATH:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=PAYMENT_FRAME_HTML)
        else:
            route.fulfill(
                status=404, content_type="text/plain", body=f"Not in the Stripe.js stand-in: {path}"
            )


def serve_stripe_js(target: Page | BrowserContext, *, api_base: str) -> StripeJs:
    """Answer the browser's requests to ``https://js.stripe.com/v3/…`` with the stand-in."""
    stand_in = StripeJs(api_base=api_base)
    target.route(STRIPE_JS_ROUTE, stand_in.handle)
    return stand_in
