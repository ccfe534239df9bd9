"""The accounts app's one signal, for the apps above it that keep data about a customer.

``user_active_changed`` is sent inside the transaction of ``user_deactivate`` and
``user_activate``: the reviews app listens to recompute the ratings its author's reviews enter,
so that accounts never imports reviews (as the cart listens to ``user_logged_in``).
"""

from django.dispatch import Signal

# Sent with ``user`` (the account) and ``active`` (its new state).
user_active_changed = Signal()
