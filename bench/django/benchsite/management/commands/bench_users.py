"""`manage.py bench_users COUNT --prefix P` creates benchmark users; the password is read from stdin.

Django's default PBKDF2 costs a large fraction of a second per hash, so the password is hashed
once and the same stored hash is given to every user (one salt for all: fine for a benchmark,
and verifying costs exactly what a per-user salt would).
"""

import sys

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create COUNT benchmark users named <prefix>0001..., password from stdin"

    def add_arguments(self, parser):
        parser.add_argument("count", type=int)
        parser.add_argument("--prefix", default="bench")

    def handle(self, *args, count, prefix, **options):
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise SystemExit("bench_users: empty password on stdin")
        stored = make_password(password)
        User.objects.bulk_create(
            [
                User(username=f"{prefix}{i:04d}", email=f"{prefix}{i:04d}@example.com", password=stored)
                for i in range(1, count + 1)
            ],
            ignore_conflicts=True,
        )
        self.stdout.write(f"{count} users ready")
