from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from . import services
from .isbn import InvalidIsbn, isbn_normalize
from .models import Author, Book, BookAuthor, Publisher


class BookAdminForm(forms.ModelForm):
    class Meta:
        model = Book
        fields = ["isbn13", *services.BOOK_FIELDS, "cover"]

    def clean_isbn13(self) -> str:
        # An ISBN-10, or one typed with hyphens, is stored as its ISBN-13.
        try:
            return isbn_normalize(self.cleaned_data["isbn13"])
        except InvalidIsbn as error:
            raise forms.ValidationError(str(error)) from error


class StockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("in", "In stock"), ("out", "Out of stock")]

    def queryset(self, request, queryset):
        if self.value() == "in":
            return queryset.filter(stock__gt=0)
        if self.value() == "out":
            return queryset.filter(stock=0)
        return queryset


class BookAuthorInline(admin.TabularInline):
    model = BookAuthor
    extra = 1
    autocomplete_fields = ["author"]


class BookCategoryInline(admin.TabularInline):
    model = Book.categories.through
    extra = 1
    verbose_name = "category"
    verbose_name_plural = "categories"
    autocomplete_fields = ["category"]


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    """Writes go through the catalogue services' rules: every save refreshes the search
    document and invalidates cached reads; delete keeps books that orders refer to."""

    form = BookAdminForm
    # Fits 1280 px beside the navigation and the filters; format and language are filters.
    list_display = ["title", "cover_preview", "isbn13", "price", "stock", "is_active"]
    list_filter = ["is_active", "format", "language", "categories", StockFilter]
    search_fields = ["isbn13", "title", "subtitle", "book_authors__author__name"]
    list_select_related = ["publisher"]
    autocomplete_fields = ["publisher"]
    readonly_fields = ["cover_preview", "rating_average", "rating_count", "created_at", "updated_at"]
    exclude = ["categories"]
    inlines = [BookAuthorInline, BookCategoryInline]
    actions = ["activate_books", "deactivate_books"]

    @admin.display(description="Cover")
    def cover_preview(self, book: Book) -> str:
        if not book.cover:
            return "—"
        name = book.cover_thumbnails.get("120") if book.cover_thumbnails else None
        url = book.cover.storage.url(name) if name else book.cover.url
        return format_html('<img src="{}" alt="" style="max-height: 80px">', url)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.book_admin_saved(book_ids=[form.instance.pk])

    def delete_model(self, request, obj: Book) -> None:
        if not services.book_delete(book=obj):
            messages.warning(request, f"“{obj}” is kept for the orders that hold it: it was deactivated.")

    def delete_queryset(self, request, queryset) -> None:
        for book in queryset:
            self.delete_model(request, book)

    @admin.action(description="Activate the selected books")
    def activate_books(self, request, queryset) -> None:
        count = services.book_set_active(book_ids=queryset.values_list("pk", flat=True), active=True)
        self.message_user(request, f"{count} books activated.")

    @admin.action(description="Deactivate the selected books")
    def deactivate_books(self, request, queryset) -> None:
        count = services.book_set_active(book_ids=queryset.values_list("pk", flat=True), active=False)
        self.message_user(request, f"{count} books deactivated.")


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj: Author, form, change) -> None:
        if change:
            services.author_update(author=obj, name=obj.name, slug=obj.slug, bio=obj.bio)
        else:
            form.instance = services.author_create(name=obj.name, slug=obj.slug, bio=obj.bio)
            obj.pk = form.instance.pk

    def delete_model(self, request, obj: Author) -> None:
        services.author_delete(author=obj)


@admin.register(Publisher)
class PublisherAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj: Publisher, form, change) -> None:
        if change:
            services.publisher_update(publisher=obj, name=obj.name, slug=obj.slug)
        else:
            form.instance = services.publisher_create(name=obj.name, slug=obj.slug)
            obj.pk = form.instance.pk

    def delete_model(self, request, obj: Publisher) -> None:
        services.publisher_delete(publisher=obj)
