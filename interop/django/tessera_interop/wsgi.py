"""WSGI entry point of the interop fixture."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera_interop.settings")

application = get_wsgi_application()
