"""``/api/v1/cart/``: the caller's cart, a customer's or an anonymous visitor's.

A signed-in customer has one cart. An anonymous visitor's cart is named by a long random
token, sent back in the ``X-Cart-Token`` header (API clients) or kept in the session
(browsers that send no header). Only the caller's own cart is ever reached: a line id of
another cart is a 404, and an unknown token finds nothing.
"""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from bookstore.api.schema import invalid_input

from .apps import CART_HEADER, CART_SESSION_KEY
from .exceptions import CartLineNotFound
from .models import Cart
from .selectors import (
    CartSummary,
    cart_find,
    cart_summary,
    cart_summary_for_token,
    cart_summary_for_user,
    cart_summary_reload,
)
from .serializers import (
    CartItemAddInputSerializer,
    CartItemUpdateInputSerializer,
    CartSerializer,
    cart_data,
    item_add_input,
)
from .services import (
    cart_clear,
    cart_create_anonymous,
    cart_create_anonymous_with_item,
    cart_get_or_create_for_user,
    cart_item_add,
    cart_item_remove,
    cart_item_update,
)

TOKEN_PARAMETER = OpenApiParameter(
    CART_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Anonymous visitors: the token of their cart (ignored for a signed-in customer).",
)


def _token_response_header(status_code: int) -> OpenApiParameter:
    return OpenApiParameter(
        CART_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[status_code],
        description="Anonymous visitors: the token of their cart, to send back.",
    )


LINE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The line's id.")


class CartViewSet(viewsets.ViewSet):
    permission_classes = [AllowAny]

    def _token(self, request: Request) -> str | None:
        return request.headers.get(CART_HEADER) or request.session.get(CART_SESSION_KEY)

    def _new_anonymous_cart(self, request: Request) -> Cart:
        cart = cart_create_anonymous()
        self._remember(request, cart)
        return cart

    def _remember(self, request: Request, cart: Cart) -> None:
        # Browsers keep their cart in the session; API clients send the header back instead.
        if not request.headers.get(CART_HEADER):
            request.session[CART_SESSION_KEY] = cart.token

    def _cart(self, request: Request) -> Cart | None:
        if request.user.is_authenticated:
            return cart_find(user=request.user)
        return cart_find(token=self._token(request))

    def _answer(self, summary: CartSummary, status_code: int = status.HTTP_200_OK) -> Response:
        headers = {CART_HEADER: summary.token} if summary.token else None
        return Response(cart_data(summary), status=status_code, headers=headers)

    @extend_schema(
        operation_id="cart_retrieve",
        summary="The caller's cart",
        description="A signed-in customer's cart, or the anonymous cart the token names; an "
        "anonymous caller without a valid token gets a new empty cart and its token.",
        parameters=[TOKEN_PARAMETER, _token_response_header(200)],
        responses=CartSerializer,
    )
    def retrieve(self, request: Request) -> Response:
        if request.user.is_authenticated:
            return self._answer(cart_summary_for_user(user=request.user))
        summary = cart_summary_for_token(token=self._token(request))
        if summary is None:
            summary = cart_summary(cart=None, token=self._new_anonymous_cart(request).token)
        return self._answer(summary)

    @extend_schema(
        operation_id="cart_clear",
        summary="Empty the cart",
        parameters=[TOKEN_PARAMETER],
        responses={204: OpenApiResponse(description="The cart is empty.")},
    )
    def clear(self, request: Request) -> Response:
        cart = self._cart(request)
        if cart is not None:
            cart_clear(cart=cart)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="cart_items_create",
        summary="Add a book to the cart",
        description="Adding a book already in the cart adds to its line. The line stays within "
        "the stock and 99 copies; an unknown or unavailable book is a 400 on `book`.",
        parameters=[TOKEN_PARAMETER, _token_response_header(201)],
        request=CartItemAddInputSerializer,
        responses={
            201: CartSerializer,
            **invalid_input(
                "`book_unavailable` (no such book, or withdrawn: on `book`), `quantity_out_of_range` "
                "(1 to 99 a line: on `quantity`), `insufficient_stock` (more than the copies in stock: "
                "on `quantity`, with `available`)."
            ),
        },
    )
    def item_add(self, request: Request) -> Response:
        data = item_add_input(request.data)
        book_id, quantity = data["book"], data["quantity"]
        cart = (
            cart_get_or_create_for_user(user=request.user)
            if request.user.is_authenticated
            else self._cart(request)
        )
        if cart is None:
            # A new cart's line is in memory: answered from it, no query.
            cart = cart_create_anonymous_with_item(book_id=book_id, quantity=quantity)
            self._remember(request, cart)
            return self._answer(cart_summary(cart=cart), status.HTTP_201_CREATED)
        cart = cart_item_add(cart=cart, book_id=book_id, quantity=quantity)
        return self._answer(cart_summary_reload(cart=cart), status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="cart_items_partial_update",
        summary="Set a line's quantity",
        parameters=[LINE_ID, TOKEN_PARAMETER, _token_response_header(200)],
        request=CartItemUpdateInputSerializer,
        responses={
            200: CartSerializer,
            **invalid_input(
                "`book_unavailable` (no such book, or withdrawn: on `book`), `quantity_out_of_range` "
                "(1 to 99 a line: on `quantity`), `insufficient_stock` (more than the copies in stock: "
                "on `quantity`, with `available`)."
            ),
        },
    )
    def item_update(self, request: Request, pk: int) -> Response:
        data = _valid(CartItemUpdateInputSerializer, request)
        cart = cart_item_update(cart=self._own_cart(request), line_id=pk, quantity=data["quantity"])
        return self._answer(cart_summary_reload(cart=cart))

    @extend_schema(
        operation_id="cart_items_destroy",
        summary="Remove a line",
        parameters=[LINE_ID, TOKEN_PARAMETER],
        responses={204: OpenApiResponse(description="The line is removed.")},
    )
    def item_remove(self, request: Request, pk: int) -> Response:
        cart_item_remove(cart=self._own_cart(request), line_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _own_cart(self, request: Request) -> Cart:
        cart = self._cart(request)
        if cart is None:
            raise CartLineNotFound("No such line in your cart.")
        return cart


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
