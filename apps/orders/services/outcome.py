"""What applying a provider's news to a payment did; webhook events and reconciliation report it."""

from enum import StrEnum


class Outcome(StrEnum):
    PAID = "paid"
    UNCHANGED = "unchanged"
    PENDING = "pending"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Amount or currency did not match the payment: staff must look; nothing was paid.
    FLAGGED = "flagged"
    # Paid after its order was paid or cancelled: refunded automatically, flagged.
    SURPLUS_REFUNDED = "surplus_refunded"
    REFUNDED = "refunded"
    # A refund seen before its payment's success: applied when the success arrives.
    DEFERRED = "deferred"
    UNMATCHED = "unmatched"
    IGNORED = "ignored"
