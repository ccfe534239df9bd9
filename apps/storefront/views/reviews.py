"""Reviews in the pages: write one on a book's page, edit or delete it, vote, and "my reviews".

The reviews' services and selectors do the work, as they do for the API; a domain error
becomes a message or a field error in the customer's language.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.catalog import selectors as catalog
from apps.reviews import selectors, services
from apps.reviews.exceptions import OwnReviewVote, ReviewExists
from apps.reviews.models import Review, ReviewStatus

from ..forms import ReviewForm
from ..paging import pager
from .catalogue import book_page


def _written_message(request: HttpRequest, review: Review) -> None:
    if review.status == ReviewStatus.PUBLISHED:
        messages.success(request, _("Thank you: your review is published."))
    else:
        messages.info(request, _("Thank you: your review will appear once a moderator has read it."))


def _book_reviews_url(review: Review) -> str:
    return reverse("storefront:book", args=[review.book.slug]) + "#reviews"


@login_required
@require_POST
def review_create(request: HttpRequest, slug: str) -> HttpResponse:
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return book_page(request, slug, review_form=form, status=400)
    book_id = catalog.book_id_get(key=slug)
    try:
        review = services.review_create(user=request.user, book_id=book_id, **form.cleaned_data)
    except ReviewExists:
        messages.warning(request, _("You have already reviewed this book: edit your review instead."))
        return redirect(reverse("storefront:book", args=[slug]) + "#reviews")
    _written_message(request, review)
    return redirect(reverse("storefront:book", args=[slug]) + "#reviews")


@login_required
@require_http_methods(["GET", "POST"])
def review_edit(request: HttpRequest, review_id: int) -> HttpResponse:
    review = selectors.review_get_for_author(user=request.user, review_id=review_id)
    form = ReviewForm(
        request.POST or None, initial={"rating": review.rating, "title": review.title, "body": review.body}
    )
    if request.method == "POST" and form.is_valid():
        review = services.review_update(review=review, data=form.cleaned_data)
        _written_message(request, review)
        return redirect("storefront:account-reviews")
    return render(
        request,
        "storefront/review_edit.html",
        {"review": review, "form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def review_delete(request: HttpRequest, review_id: int) -> HttpResponse:
    review = selectors.review_get_for_author(user=request.user, review_id=review_id)
    services.review_delete(review=review)
    messages.success(request, _("Your review is deleted."))
    return redirect("storefront:account-reviews")


@login_required
@require_POST
def review_vote(request: HttpRequest, review_id: int) -> HttpResponse:
    review = selectors.review_get_visible(review_id=review_id)
    try:
        services.review_vote_add(review=review, user=request.user)
    except OwnReviewVote:
        messages.warning(request, _("You cannot vote on your own review."))
    else:
        messages.success(request, _("Thank you for your vote."))
    return redirect(_book_reviews_url(review))


@login_required
@require_GET
def account_reviews(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.review_list_for_user(user=request.user), 20).get_page(request.GET.get("page"))
    return render(
        request, "storefront/account_reviews.html", {"pager": pager(page), "reviews": list(page.object_list)}
    )
