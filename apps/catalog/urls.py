from rest_framework.routers import SimpleRouter

from .views import AuthorViewSet, BookViewSet, PublisherViewSet

router = SimpleRouter()
router.register("books", BookViewSet, basename="book")
router.register("authors", AuthorViewSet, basename="author")
router.register("publishers", PublisherViewSet, basename="publisher")
urlpatterns: list = []
