#!/usr/bin/env python3
"""Django's command-line utility for the Tessera interop fixture (see README.md)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera_interop.settings")
    missing = [name for name in ("SIMPLEJWT_SIGNING_KEY", "DJANGO_INTEROP_DB") if not os.environ.get(name)]
    if missing and sys.argv[1:2] not in ([], ["help"], ["--help"], ["-h"]):
        sys.exit(f"manage.py: set {' and '.join(missing)} (see interop/django/README.md)")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
