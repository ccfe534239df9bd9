from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

# The admin says whose it is, in the staff member's language.
admin.site.site_header = _("Bookshop — administration")
admin.site.site_title = _("Bookshop administration")
admin.site.index_title = _("Running the shop")

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("bookstore.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's bootstrap as a script of its own: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("orders/", include("apps.orders.storefront_urls")),
    path("", include("apps.storefront.urls")),
    path("accounts/", include("apps.accounts.urls_storefront")),
    re_path(r"^api/", views.api_not_found),
]

if settings.DEBUG and not settings.AWS_STORAGE_BUCKET_NAME:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "bookstore.views.bad_request"
handler403 = "bookstore.views.permission_denied"
handler404 = "bookstore.views.page_not_found"
handler500 = "bookstore.views.server_error"
