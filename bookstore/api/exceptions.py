"""The API's one exception handler: every error becomes a problem details body.

Domain errors (``ApplicationError``), Django's own (``Http404``, ``PermissionDenied``,
``ValidationError``) and DRF's are all rendered here. Anything else is logged with its
traceback and answered as a bare 500: no stack trace or SQL ever reaches a client.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from bookstore.exceptions import ApplicationError

from .problems import PROBLEM_CONTENT_TYPE, problem_body

logger = logging.getLogger("bookstore.api")

# DRF's codes for its exceptions, renamed where a client reads them better.
_CODE_NAMES = {"invalid": "validation_error"}


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """``{"lines": [{"quantity": ["…"]}]}`` → ``{"lines.0.quantity": ["…"]}``."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


class ContentTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the API accepts."
    default_code = "content_too_large"


def _readable(exc: SuspiciousOperation) -> exceptions.APIException:
    """Django's refusals of a request body or query it will not read, as the client's error.

    Django raises them while DRF reads ``request.data`` or ``query_params``; outside DRF
    they would be its 400 page, inside they reached the handler as unknown errors (a 500).
    """
    if isinstance(exc, RequestDataTooBig):
        return ContentTooLarge()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return exceptions.ParseError("The request has more fields or files than the API accepts.")
    return exceptions.ParseError("The request could not be read.")


# A database that cannot be reached (or gave up on a statement): OperationalError and
# InterfaceError are what psycopg raises then, never a bug of the request.
DatabaseUnavailable = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def _response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    request = context.get("request")
    instance = request.path if request is not None else None

    if isinstance(exc, ApplicationError):
        return _response(
            problem_body(
                status=exc.status,
                code=exc.code,
                title=exc.title,
                detail=exc.message,
                errors=exc.errors,
                instance=instance,
                **exc.extra,
            )
        )
    if isinstance(exc, DatabaseUnavailable):
        logger.error("Database unavailable in %s: %r", instance, exc)
        return _response(
            problem_body(
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                code="database_unavailable",
                detail="The shop's database cannot be reached right now; try again in a moment.",
                instance=instance,
            ),
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, SuspiciousOperation):
        # Django's own handler logs these to django.security; so does this one.
        logging.getLogger(f"django.security.{type(exc).__name__}").warning(str(exc))
        exc = _readable(exc)

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        logger.error("Unhandled error in %s", instance, exc_info=exc)
        return _response(
            problem_body(
                status=status.HTTP_500_INTERNAL_SERVER_ERROR,
                code="server_error",
                detail="An unexpected error occurred. Quote the X-Request-ID header when reporting it.",
                instance=instance,
            )
        )

    headers = {name: value for name, value in response.headers.items() if name.lower() != "content-type"}
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        only_general = set(errors) == {"non_field_errors"}
        body = problem_body(
            status=response.status_code,
            code="validation_error",
            title="Invalid input.",
            detail=" ".join(errors["non_field_errors"])
            if only_general
            else "One or more fields are invalid.",
            errors=errors,
            instance=instance,
        )
        return _response(body, headers)

    detail: Any = exc.detail
    code = exc.default_code
    if isinstance(detail, dict):
        # simplejwt's token errors carry {"detail": …, "code": …, "messages": […]}.
        code = str(detail.get("code", code))
        detail = detail.get("detail", exc.default_detail)
    elif isinstance(detail, exceptions.ErrorDetail):
        code = detail.code or code
    body = problem_body(
        status=response.status_code,
        code=_CODE_NAMES.get(code, code),
        detail=str(detail),
        instance=instance,
    )
    return _response(body, headers)
