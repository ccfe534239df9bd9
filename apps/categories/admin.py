from django.contrib import admin

from . import services
from .models import Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The tree, indented by depth; saves go through the services (paths, moves, cycles)."""

    list_display = ["indented_name", "slug", "position"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "parent", "position", "description"]

    @admin.display(description="Name", ordering="path")
    def indented_name(self, category: Category) -> str:
        return "\u2003" * category.depth + category.name

    def has_delete_permission(self, request, obj: Category | None = None) -> bool:
        # The service refuses to delete a category with books or children: the admin does not
        # offer it (a 403 rather than an error page).
        if obj is not None and (obj.children.exists() or obj.books.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj: Category, form, change) -> None:
        data = {field: form.cleaned_data[field] for field in ("name", "slug", "position", "description")}
        if change:
            services.category_update(category=obj, parent=form.cleaned_data["parent"], **data)
        else:
            created = services.category_create(parent=form.cleaned_data["parent"], **data)
            obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth

    def delete_model(self, request, obj: Category) -> None:
        services.category_delete(category=obj)

    def delete_queryset(self, request, queryset) -> None:
        for category in queryset.order_by("-depth"):
            services.category_delete(category=category)
