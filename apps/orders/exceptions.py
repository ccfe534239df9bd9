from bookstore.exceptions import ApplicationError, Conflict, NotFound


class CartEmpty(Conflict):
    code = "cart_empty"
    title = "The cart is empty."


class CartChanged(Conflict):
    """Some cart lines cannot be ordered as they are; ``errors`` names them (``lines.<index>``)."""

    code = "cart_changed"
    title = "The cart cannot be ordered as it is."


class OrderTooLarge(Conflict):
    """The order's amounts would not fit the money columns of an order."""

    code = "order_too_large"
    title = "The order is larger than the shop can take."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "The order cannot move to that status."


class IdempotencyKeyReused(ApplicationError):
    status = 422
    code = "idempotency_key_reused"
    title = "This Idempotency-Key was used with a different request."


class PaymentProviderUnavailable(ApplicationError):
    status = 400
    code = "payment_provider_unavailable"
    title = "This payment method is not available."


class PaymentMismatch(Conflict):
    code = "payment_mismatch"
    title = "The payment does not match the order."


class TrackingNumberRequired(ApplicationError):
    status = 400
    code = "tracking_number_required"
    title = "A tracking number is needed to ship an order."


class NothingToRefund(Conflict):
    code = "nothing_to_refund"
    title = "Nothing was paid on this order that has not been refunded."


class RefundTooLarge(Conflict):
    """More than was paid and not yet refunded; ``refundable`` says how much may still go back."""

    code = "refund_too_large"
    title = "The refund is larger than what remains to refund."


class PaymentNotNeeded(Conflict):
    code = "payment_not_needed"
    title = "This order is not waiting for a payment."


class PaymentServiceUnavailable(ApplicationError):
    """The provider could not be reached; the client (or the provider, for a webhook) tries again."""

    status = 503
    code = "payment_service_unavailable"
    title = "The payment service cannot be reached right now."


class WebhookRejected(ApplicationError):
    """A webhook whose signature is missing, wrong or stale: nothing was stored."""

    status = 400
    code = "webhook_invalid"
    title = "The webhook's signature could not be verified."


class OrderNotFound(NotFound):
    code = "not_found"
