import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client) -> dict:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_a_valid_openapi_document(schema):
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "API Librairie E-commerce"


def test_schema_documents_token_endpoints_with_bodies_and_problem_errors(schema):
    obtain = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert "requestBody" in obtain
    assert "200" in obtain["responses"]
    problem = obtain["responses"]["400"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert "/api/v1/auth/token/refresh/" in schema["paths"]


def test_interactive_docs_render_from_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html
    # Its bootstrap, a script of its own (no inline script under the CSP), loads the schema.
    script = client.get("/api/docs/", {"script": ""})
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


def test_every_operation_documents_its_success_body(schema):
    """A client generator needs the shape of every answer (204 No Content aside)."""
    missing = [
        f"{method.upper()} {path} {status}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith("2") and status != "204" and "content" not in response
    ]
    assert missing == []


def test_token_response_documents_the_cart_merge_report(schema):
    response = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]["200"]
    ref = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][ref]["properties"]
    assert {"access", "refresh", "cart_merge"} <= set(properties)


def _problem_statuses(operation: dict) -> set[str]:
    return {
        status
        for status, response in operation["responses"].items()
        if "application/problem+json" in response.get("content", {})
    }


def test_lists_document_the_404_of_a_page_out_of_range(schema):
    for path in ("/api/v1/books/", "/api/v1/authors/", "/api/v1/publishers/", "/api/v1/orders/"):
        assert "404" in _problem_statuses(schema["paths"][path]["get"]), path


def test_every_operation_documents_what_is_refused_before_its_view(schema):
    """A NUL byte anywhere in the address (400), an address or headers too long (414, 431):
    any operation may answer them, as the live fuzzing found."""
    missing = [
        f"{method.upper()} {path} {status}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for status in ("400", "414", "431")
        if status not in _problem_statuses(operation)
    ]

    assert missing == []


def test_catalogue_conflicts_are_documented(schema):
    paths = schema["paths"]
    assert "409" in _problem_statuses(paths["/api/v1/books/"]["post"])
    assert "409" in _problem_statuses(paths["/api/v1/books/{key}/"]["patch"])
    for kind in ("authors", "publishers"):
        assert "409" in _problem_statuses(paths[f"/api/v1/{kind}/"]["post"])
        assert "409" in _problem_statuses(paths[f"/api/v1/{kind}/{{slug}}/"]["patch"])
        assert "409" in _problem_statuses(paths[f"/api/v1/{kind}/{{slug}}/"]["delete"])
    assert "409" in _problem_statuses(paths["/api/v1/categories/{slug}/"]["delete"])


@pytest.mark.parametrize(
    ("path", "statuses"),
    [
        ("/api/v1/auth/token/", {"401", "403"}),
        ("/api/v1/auth/token/refresh/", {"401"}),
        ("/api/v1/auth/logout/", {"401"}),
    ],
)
def test_open_token_endpoints_document_their_credential_errors(schema, path, statuses):
    responses = schema["paths"][path]["post"]["responses"]
    assert statuses <= set(responses)
    for status in statuses:
        assert "application/problem+json" in responses[status]["content"]


def test_operations_taking_a_body_document_the_413_and_415_of_one_too_large_or_unreadable(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                assert {"413", "415"} <= _problem_statuses(operation), f"{method} {path}"


def _anonymous_allowed(operation: dict) -> bool:
    security = operation.get("security")
    return security is None or {} in security


def test_public_reads_are_declared_open_to_anonymous_clients(schema):
    public = [
        ("/api/v1/books/", "get"),
        ("/api/v1/books/{key}/", "get"),
        ("/api/v1/categories/", "get"),
        ("/api/v1/categories/{slug}/", "get"),
        ("/api/v1/authors/", "get"),
        ("/api/v1/publishers/{slug}/", "get"),
        ("/api/v1/books/{book}/reviews/", "get"),
        ("/api/v1/cart/", "get"),
        ("/api/v1/auth/token/", "post"),
    ]
    private = [("/api/v1/books/", "post"), ("/api/v1/me/", "get"), ("/api/v1/orders/", "post")]

    assert [op for op in public if not _anonymous_allowed(schema["paths"][op[0]][op[1]])] == []
    assert [op for op in private if _anonymous_allowed(schema["paths"][op[0]][op[1]])] == []


def test_the_token_endpoint_declares_the_cart_token_header(schema):
    parameters = schema["paths"]["/api/v1/auth/token/"]["post"]["parameters"]

    assert {"name": "X-Cart-Token", "in": "header"}.items() <= next(
        p for p in parameters if p["name"] == "X-Cart-Token"
    ).items()


@pytest.mark.parametrize(
    ("path", "method", "words"),
    [
        ("/api/v1/cart/items/", "post", ["insufficient_stock", "available", "book_unavailable"]),
        ("/api/v1/cart/items/{id}/", "patch", ["insufficient_stock"]),
        ("/api/v1/auth/register/", "post", ["password validators"]),
        ("/api/v1/auth/password-change/", "post", ["old_password", "password validators"]),
        ("/api/v1/me/addresses/", "post", ["ISO 3166-1"]),
        ("/api/v1/orders/", "post", ["ISO 3166-1", "payment_provider_unavailable"]),
        ("/api/v1/books/{book}/reviews/", "post", ["review_exists"]),
    ],
)
def test_business_rule_errors_are_documented(schema, path, method, words):
    responses = schema["paths"][path][method]["responses"]
    described = " ".join(response.get("description", "") for response in responses.values())

    assert [word for word in words if word not in described] == []


def test_what_clients_read_beyond_the_body_is_declared(schema):
    checkout = schema["paths"]["/api/v1/orders/"]["post"]["responses"]["200"]
    problem = schema["components"]["schemas"]["Problem"]["properties"]

    assert "Idempotent-Replayed" in checkout["headers"]
    assert problem["available"]["type"] == "integer"


SAMPLES = {
    "key": "x",
    "slug": "x",
    "book": "x",
    "id": "1",
    "pk": "1",
    "number": "LB-AAAA-AAAA",
    "provider": "stripe",
}


def _api_routes() -> list[str]:
    """Every route under /api/ as a sample path (its parameters filled), the router's root,
    its format-suffix twins and the schema's own pages aside."""
    import re

    from tests.urls import routes

    samples = set()
    for route, _view in routes():
        if not route.startswith("api/v1/") or route == "api/v1/" or "{format}" in route:
            continue
        samples.add("/" + re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], route))
    return sorted(samples)


def _template(path: str) -> str:
    import re

    return "^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$"


def test_every_api_url_is_in_the_schema_and_every_schema_path_is_routed(schema):
    import re

    from django.urls import Resolver404, resolve

    templates = [_template(path) for path in schema["paths"]]
    routes = _api_routes()
    unrouted = []
    for path in schema["paths"]:
        sample = re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], path)
        try:
            match = resolve(sample)
        except Resolver404:
            unrouted.append(path)
            continue
        if match.func.__name__ == "api_not_found":
            unrouted.append(path)

    assert len(routes) > 30
    assert [route for route in routes if not any(re.match(t, route) for t in templates)] == []
    assert unrouted == []
