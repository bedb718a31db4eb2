"""Settings of the Django + DRF + simplejwt interop fixture.

Everything that differs between runs comes from the environment, so a test can start any number
of independent instances (see README.md):

- ``SIMPLEJWT_SIGNING_KEY`` (required): the HS256 secret shared with Tessera.
- ``DJANGO_INTEROP_DB`` (required): path of the SQLite file; the caller owns its directory.
- ``DJANGO_SECRET_KEY`` (optional): Django's own secret. Nothing the fixture stores depends on it
  (no sessions, no signed cookies), so a random one is used when it is not set.
- ``SIMPLEJWT_ROTATE_REFRESH_TOKENS`` (optional, default ``1``): rotation plus blacklisting of the
  rotated token, as simplejwt's documentation configures it; ``0`` gives simplejwt's defaults.
- ``SIMPLEJWT_AUDIENCE`` / ``SIMPLEJWT_ISSUER`` (optional): simplejwt's ``AUDIENCE``/``ISSUER``.

The rest mirrors the instance captured in shared/reference/simplejwt-5.5.md §0: default
``startproject`` middleware, DRF's default renderers and parsers, ``DEBUG=False``,
``JWTAuthentication`` as the only authentication class, ``IsAuthenticated`` by default, and the
``token_blacklist`` app installed.
"""

import os
import secrets

from django.core.exceptions import ImproperlyConfigured


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"environment variable {name} must be set (see interop/django/README.md)")
    return value


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"environment variable {name} must be 0 or 1, not {value!r}")


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = False
# The fixture only ever listens on loopback.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    # Only for its management commands (seed_user, serve_fixture); it has no models.
    "tessera_interop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tessera_interop.urls"
WSGI_APPLICATION = "tessera_interop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _required("DJANGO_INTEROP_DB"),
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
    ],
}

_rotate = _flag("SIMPLEJWT_ROTATE_REFRESH_TOKENS", True)

SIMPLE_JWT = {
    "SIGNING_KEY": _required("SIMPLEJWT_SIGNING_KEY"),
    "ALGORITHM": "HS256",
    "ROTATE_REFRESH_TOKENS": _rotate,
    "BLACKLIST_AFTER_ROTATION": _rotate,
    "AUDIENCE": os.environ.get("SIMPLEJWT_AUDIENCE") or None,
    "ISSUER": os.environ.get("SIMPLEJWT_ISSUER") or None,
}
