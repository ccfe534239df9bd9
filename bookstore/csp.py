"""The shop's Content-Security-Policy, built from what is configured (``settings.SECURE_CSP``).

Everything comes from the shop's own origin: no inline script or style anywhere (Swagger UI's
bootstrap is a script of its own, ``SpectacularSwaggerSplitView``), no plugin, no frame of the
shop inside another site (``frame-ancestors 'none'``, with ``X-Frame-Options: DENY`` for old
browsers). Three outside origins are added only when they are in use:

- Stripe (a publishable key is set): Stripe.js from ``js.stripe.com``, its frames
  (``js.stripe.com``, ``hooks.stripe.com``), its calls to the Stripe API (``STRIPE_API_BASE``),
  as Stripe's security guide lists them;
- PayPal (offered at checkout): the approval page the checkout's form redirects to;
- the cover storage (S3 or a CDN), for images.
"""

from collections.abc import Iterable
from urllib.parse import urlsplit

from django.utils.csp import CSP

# As Stripe's security guide lists them for Stripe.js and the Payment Element (3-D Secure
# frames included).
STRIPE_JS = ("https://js.stripe.com", "https://*.js.stripe.com")
STRIPE_FRAMES = ("https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def paypal_web_origin(api_base: str) -> str:
    """``https://api-m.sandbox.paypal.com`` → ``https://www.sandbox.paypal.com``, where the
    customer approves; a stand-in's own origin otherwise."""
    parts = urlsplit(api_base)
    host = parts.netloc.removeprefix("api-m.").removeprefix("api.")
    return f"{parts.scheme}://www.{host}" if host != parts.netloc else _origin(api_base)


def content_security_policy(
    *, stripe_api_base: str | None, paypal_api_base: str | None, media_urls: Iterable[str] = ()
) -> dict[str, list[str]]:
    media = sorted({origin for origin in map(_origin, media_urls) if origin})
    stripe = [_origin(stripe_api_base)] if stripe_api_base else []
    return {
        "default-src": [CSP.SELF],
        "script-src": [CSP.SELF, *(STRIPE_JS if stripe else ())],
        # The nonce only for Swagger UI's one inline style (templates/drf_spectacular/).
        "style-src": [CSP.SELF, CSP.NONCE],
        "img-src": [CSP.SELF, "data:", *media],
        "font-src": [CSP.SELF],
        "connect-src": [CSP.SELF, *stripe],
        "frame-src": list(STRIPE_FRAMES) if stripe else [CSP.NONE],
        "form-action": [CSP.SELF, *([paypal_web_origin(paypal_api_base)] if paypal_api_base else [])],
        "frame-ancestors": [CSP.NONE],
        "base-uri": [CSP.SELF],
        "object-src": [CSP.NONE],
    }
