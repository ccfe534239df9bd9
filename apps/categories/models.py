from django.db import models
from django.utils.translation import gettext_lazy as _

from bookstore.models import TimeStampedModel


class Category(TimeStampedModel):
    """A node of the category tree, of any depth.

    ``path`` materialises the chain of ancestor ids (``"1/4/9/"`` for category 9 under 4
    under 1), so that a category's descendants are one indexed ``path__startswith`` away.
    Services keep it (and ``depth``) right when a node is created or moved.
    """

    parent = models.ForeignKey(
        "self", null=True, blank=True, related_name="children", on_delete=models.PROTECT
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    position = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]
        indexes = [models.Index(fields=["parent", "position"])]

    def __str__(self) -> str:
        return self.name
