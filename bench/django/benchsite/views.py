"""The protected view the benchmark calls: the counterpart of Tessera's `GET /api/me/`."""

from django.http import JsonResponse
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class MeView(APIView):
    """The authenticated user, as Tessera's `/api/me/` answers it.

    `JWTAuthentication` (from settings) verifies the token and loads the user from the
    database, as reference §2.10 describes; Tessera does the same work.
    """

    permission_classes = [IsAuthenticated]

    def get(self, request):
        user = request.user
        return Response(
            {
                "id": str(user.pk),
                "username": user.username,
                "email": user.email,
                "is_staff": user.is_staff,
                "is_superuser": user.is_superuser,
                "last_login": user.last_login,
            }
        )


def ready(request):
    """Readiness for bench/run.sh's start-up poll: answers once Django has loaded."""
    return JsonResponse({})
