from django.contrib.auth.signals import user_logged_in
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer


class TokenObtainView(jwt_views.TokenObtainPairView):
    """Email and password → an access and a refresh token.

    Sends Django's ``user_logged_in`` signal like a session login does, so that whatever
    listens to sign-ins (``last_login``, the cart merge) works for API clients too. A receiver
    that returns a dict adds its keys to the response.
    """

    throttle_scope = "auth"

    def post(self, request: Request, *args, **kwargs) -> Response:
        serializer: TokenObtainPairSerializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.user
        data = dict(serializer.validated_data)
        # A receiver may report what the sign-in did (the cart merge does) by returning a
        # dict; it is added to the response so the client can tell the customer.
        for _receiver, result in user_logged_in.send(sender=user.__class__, request=request, user=user):
            if isinstance(result, dict):
                data.update(result)
        return Response(data, status=status.HTTP_200_OK)


class TokenRefreshView(jwt_views.TokenRefreshView):
    """A refresh token → a new access token and a new refresh token (the old one is spent)."""

    throttle_scope = "auth"
