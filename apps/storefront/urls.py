"""The customer pages (namespace ``storefront``), mounted at the site's root."""

from django.urls import path

from .views import catalogue, reviews, shopping

app_name = "storefront"
urlpatterns = [
    path("", catalogue.home, name="home"),
    path("books/", catalogue.book_list, name="books"),
    path("books/<slug:slug>/", catalogue.book_detail, name="book"),
    path("categories/<slug:slug>/", catalogue.category_detail, name="category"),
    path("authors/<slug:slug>/", catalogue.author_detail, name="author"),
    path("cart/", shopping.cart, name="cart"),
    path("cart/add/", shopping.cart_add, name="cart-add"),
    path("cart/lines/<int:line_id>/", shopping.cart_line_update, name="cart-line"),
    path("cart/lines/<int:line_id>/remove/", shopping.cart_line_remove, name="cart-line-remove"),
    path("checkout/", shopping.checkout, name="checkout"),
    path("orders/<str:number>/", shopping.order_detail, name="order"),
    path("orders/<str:number>/pay/", shopping.order_pay, name="order-pay"),
    path("orders/<str:number>/cancel/", shopping.order_cancel, name="order-cancel"),
    path("accounts/orders/", shopping.account_orders, name="account-orders"),
    path("books/<slug:slug>/reviews/", reviews.review_create, name="review-create"),
    path("reviews/<int:review_id>/edit/", reviews.review_edit, name="review-edit"),
    path("reviews/<int:review_id>/delete/", reviews.review_delete, name="review-delete"),
    path("reviews/<int:review_id>/helpful/", reviews.review_vote, name="review-vote"),
    path("accounts/reviews/", reviews.account_reviews, name="account-reviews"),
]
