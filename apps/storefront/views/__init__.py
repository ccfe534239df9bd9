"""The storefront's pages, by part of the journey: ``catalogue`` (browse) and ``shopping`` (buy)."""
