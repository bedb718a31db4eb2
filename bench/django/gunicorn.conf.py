"""gunicorn settings for the simplejwt reference, as gunicorn's "Design" page recommends.

workers = 2 × cores + 1 sync workers ("a good starting point"); sync is gunicorn's default worker
class and the one its docs recommend behind a buffering proxy. Sync workers do not keep
connections alive, so each request opens a new connection; that is gunicorn's normal behaviour.
"""

import multiprocessing
import os

bind = os.environ.get("BENCH_DJANGO_LISTEN", "127.0.0.1:8200")
workers = int(os.environ.get("BENCH_DJANGO_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Logins under load queue behind PBKDF2: don't let gunicorn kill a worker that is only slow.
timeout = 120
accesslog = None
loglevel = "warning"
# The backlog must hold every connection the load generator opens (up to 256).
backlog = 2048
