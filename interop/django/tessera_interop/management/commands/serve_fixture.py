"""`manage.py serve_fixture [--port 0] [--id 1 --username alice --password-stdin]`.

One command for tests: applies the migrations to the SQLite file named by DJANGO_INTEROP_DB,
optionally creates a user, then serves the project with Django's own threaded WSGI server (the one
`runserver` uses) on loopback. Once the socket is bound it prints exactly one line on stdout, the
base URL with the real port (`http://127.0.0.1:54321`), so a test can ask for port 0 and read
the port back. Request logs go to stderr. Stop it with SIGTERM or SIGINT.
"""

import ipaddress
import signal
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import WSGIServer, get_internal_wsgi_application, run

from . import _seed


class Command(BaseCommand):
    help = "Migrate, optionally seed a user, and serve on a loopback port (prints the base URL)."
    # The migrations are applied below; Django's own pre-run checks would only add output.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=0, help="TCP port; 0 (default) picks a free one")
        _seed.add_arguments(parser, required=False)

    def handle(self, *args, **options):
        try:
            addr = ipaddress.ip_address(options["addr"])
        except ValueError as e:
            raise CommandError(f"--addr must be an IP address: {e}") from e
        if not addr.is_loopback:
            raise CommandError("the interop fixture only listens on loopback addresses")
        if not 0 <= options["port"] <= 65535:
            raise CommandError("--port must be between 0 and 65535")

        call_command("migrate", verbosity=0, interactive=False)
        if options["user_id"] is not None or options["username"]:
            _seed.seed(options)

        # SIGTERM (what a test harness sends) ends the process as cleanly as Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

        host = f"[{addr}]" if addr.version == 6 else str(addr)

        def on_bind(port: int) -> None:
            sys.stdout.write(f"http://{host}:{port}\n")
            sys.stdout.flush()

        try:
            run(
                str(addr),
                options["port"],
                get_internal_wsgi_application(),
                ipv6=addr.version == 6,
                threading=True,
                on_bind=on_bind,
                server_cls=WSGIServer,
            )
        except KeyboardInterrupt:
            pass
        except OSError as e:
            raise CommandError(f"cannot listen on {host}:{options['port']}: {e.strerror or e}") from e
