"""`manage.py seed_user --id 1 --username alice --password-stdin`: a user with a chosen id.

simplejwt's JWTAuthentication looks the user up by the token's user_id claim, so a token issued
by Tessera for user "1" is accepted here only if user 1 exists. Idempotent.
"""

from django.core.management.base import BaseCommand

from . import _seed


class Command(BaseCommand):
    help = "Create (or reset) a user with the given id, username and password."

    def add_arguments(self, parser):
        _seed.add_arguments(parser, required=True)

    def handle(self, *args, **options):
        _seed.seed(options)
