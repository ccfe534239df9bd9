"""The hand-built shapes of the cart's API (``cart_data``, ``item_add_input``) are the declared
serializers' to the byte: the serializers stay the schema and the reference."""

from decimal import Decimal

import pytest
from rest_framework.exceptions import ValidationError

from apps.cart.selectors import CartBook, CartLineSummary, CartSummary
from apps.cart.serializers import CartItemAddInputSerializer, CartSerializer, cart_data, item_add_input
from bookstore.api.renderers import OrjsonRenderer


def _line(number: int, **fields) -> CartLineSummary:
    values = {
        "id": number,
        "book": CartBook(
            id=100 + number, title=f"Titre « {number} »", slug=f"titre-{number}", isbn13="9782070360024"
        ),
        "quantity": 2,
        "unit_price": Decimal("12.50"),
        "line_total": Decimal("25.00"),
        "price_when_added": Decimal("12.50"),
        "price_changed": False,
        "available": 10,
        "insufficient_stock": False,
        "unavailable": False,
    }
    return CartLineSummary(**{**values, **fields})


SUMMARIES = {
    "empty, signed in": CartSummary(
        token=None, lines=(), item_count=0, subtotal=Decimal("0.00"), currency="EUR"
    ),
    "lines with every flag": CartSummary(
        token="abc_DEF-123",
        lines=(
            _line(1),
            _line(2, price_changed=True, price_when_added=Decimal("9.9"), unit_price=Decimal("11")),
            _line(3, insufficient_stock=True, available=1, quantity=3, line_total=Decimal("37.5")),
            _line(4, unavailable=True, available=0, unit_price=Decimal("0.00"), line_total=Decimal("0")),
        ),
        item_count=7,
        subtotal=Decimal("123456789012.34"),
        currency="EUR",
    ),
}


@pytest.mark.parametrize("summary", SUMMARIES.values(), ids=SUMMARIES.keys())
def test_cart_data_is_the_serializers_output(summary):
    expected = CartSerializer(summary).data
    assert cart_data(summary) == expected
    renderer = OrjsonRenderer()
    assert renderer.render(cart_data(summary)) == renderer.render(expected)


BODIES = [
    {"book": 7},
    {"book": 7, "quantity": 1},
    {"book": 7, "quantity": 99},
    {"book": 7, "quantity": 2, "unknown": "ignored"},
    {"book": 7, "quantity": 100},
    {"book": 7, "quantity": 0},
    {"book": 7, "quantity": -1},
    {"book": 0},
    {"book": -3},
    {"book": 2**70},
    {"book": True},
    {"book": 7, "quantity": True},
    {"book": "7"},
    {"book": 7, "quantity": "2"},
    {"book": 7.0},
    {"book": 7, "quantity": 2.5},
    {"book": None},
    {"book": 7, "quantity": None},
    {"book": [7]},
    {},
    [],
    "book",
    None,
]


@pytest.mark.parametrize("body", BODIES, ids=repr)
def test_item_add_input_reads_a_body_as_the_serializer_does(body):
    serializer = CartItemAddInputSerializer(data=body)
    if serializer.is_valid():
        result = item_add_input(body)
        assert result == serializer.validated_data
        assert {key: type(value) for key, value in result.items()} == {"book": int, "quantity": int}
    else:
        with pytest.raises(ValidationError) as refused:
            item_add_input(body)
        assert refused.value.detail == serializer.errors
