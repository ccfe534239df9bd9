from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("reviews", views.ReviewViewSet, basename="review")

urlpatterns = [
    path("books/<str:book>/reviews/", views.BookReviewsView.as_view(), name="book-reviews"),
    path("me/reviews/", views.MyReviewsView.as_view(), name="my-reviews"),
]
