from typing import Any

from django.db import models
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


class TimeStampedModel(models.Model):
    """``created_at`` and ``updated_at``, kept by the database layer on every save."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class _AnyArray:
    """``IN`` as ``= ANY(%s)`` with one array parameter, on PostgreSQL."""

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        if not self.rhs_is_direct_value():  # type: ignore[attr-defined]
            return self.as_sql(compiler, connection)  # type: ignore[attr-defined]
        lhs, lhs_params = self.process_lhs(compiler, connection)  # type: ignore[attr-defined]
        field = self.lhs.output_field  # type: ignore[attr-defined]
        rhs = self.rhs  # type: ignore[attr-defined]
        values = [
            field.get_db_prep_value(value, connection, prepared=True) for value in rhs if value is not None
        ]
        return f"{lhs} = ANY(%s)", (*lhs_params, values)


@models.Field.register_lookup
class AnyOf(_AnyArray, In):
    """``field__any=values``: ``field__in``, sent as one parameter on PostgreSQL (``= ANY(%s)``
    with an array) where ``__in`` sends one per value.

    For the long lists of a batch (a thousand ISBNs or ids): psycopg splits and quotes a
    thousand parameters in Python, and the planner, estimating a row per listed value, picks a
    sequential scan of the whole table over the index (an import into a growing catalogue
    slowed down batch after batch). An array parameter is planned as a few rows: the index.
    Other databases take ``IN``.
    """

    lookup_name = "any"


@models.ForeignObject.register_lookup
class RelatedAnyOf(_AnyArray, RelatedIn):
    """``AnyOf`` for a foreign key (``book_id__any=ids``)."""

    lookup_name = "any"
