"""A view protected by the project defaults: JWTAuthentication + IsAuthenticated."""

from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response


@api_view(["GET"])
def protected(request: Request) -> Response:
    # request.user is the database row simplejwt looked up by the token's user_id claim;
    # request.auth is the validated AccessToken.
    return Response(
        {
            "user_id": request.user.id,
            "username": request.user.get_username(),
            "token_user_id": request.auth["user_id"],
            "jti": request.auth["jti"],
        }
    )
