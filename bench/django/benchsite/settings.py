"""Django + DRF + simplejwt as simplejwt's documentation sets it up, for Tessera's benchmarks.

The project is `django-admin startproject`'s defaults (apps, middleware, templates, DEBUG off)
plus what simplejwt's "Getting started" and "Blacklist app" pages add: `JWTAuthentication` as
DRF's authentication class, the token views on the conventional paths, and the
`token_blacklist` app with `ROTATE_REFRESH_TOKENS` and `BLACKLIST_AFTER_ROTATION` on, so a
refresh rotates and blacklists exactly as Tessera's rotation does. Everything that differs
from a stock project is read from the environment that bench/run.sh sets.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# Benchmark-only secrets, made fresh by bench/run.sh for every run; never a deployment's.
SECRET_KEY = os.environ["BENCH_DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "benchsite",
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

ROOT_URLCONF = "benchsite.urls"

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

WSGI_APPLICATION = "benchsite.wsgi.application"

# SQLite, like Tessera's default store. WAL and BEGIN IMMEDIATE (Django 5.1+ `transaction_mode`)
# are what Django's SQLite notes recommend for several writer processes: without them gunicorn's
# workers would fail refreshes with "database is locked" and the comparison would count
# Django's lock errors rather than its speed. synchronous stays at SQLite's default (FULL).
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["BENCH_DJANGO_DB"],
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }
}

# Django's default hashers (PBKDF2-SHA256 first): what an existing Django user table holds.
AUTH_PASSWORD_VALIDATORS = []

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": (
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ),
}

SIMPLE_JWT = {
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": os.environ["BENCH_DJANGO_SIGNING_KEY"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
