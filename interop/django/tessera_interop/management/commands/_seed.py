"""Creating the user a test logs in as, shared by seed_user and serve_fixture."""

import sys
from argparse import ArgumentParser

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def add_arguments(parser: ArgumentParser, required: bool) -> None:
    parser.add_argument("--id", dest="user_id", type=int, required=required, help="primary key of the user")
    parser.add_argument("--username", required=required)
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--password", help="the password (visible to other local processes; prefer --password-stdin)")
    secret.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    parser.add_argument("--email", default="")
    parser.add_argument("--inactive", action="store_true", help="create the user with is_active=False")


def read_password(options: dict) -> str:
    if options["password_stdin"]:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
    else:
        password = options["password"]
    if not password:
        raise CommandError("a password is required: --password-stdin or --password")
    return password


def seed(options: dict) -> None:
    """Creates the user with exactly this id, or resets that user's fields and password."""
    user_id, username = options["user_id"], options["username"]
    if user_id is None or not username:
        raise CommandError("--id and --username go together")
    password = read_password(options)
    model = get_user_model()
    if model.objects.filter(username=username).exclude(pk=user_id).exists():
        raise CommandError(f"username {username!r} belongs to another user id")
    user = model.objects.filter(pk=user_id).first() or model(pk=user_id)
    user.username = username
    user.email = options["email"]
    user.is_active = not options["inactive"]
    # Django's default hasher (PBKDF2-SHA256), as a real project stores it.
    user.set_password(password)
    user.save()
