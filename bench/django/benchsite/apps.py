"""Makes `benchsite` an app so its management command is found."""

from django.apps import AppConfig


class BenchsiteConfig(AppConfig):
    name = "benchsite"
