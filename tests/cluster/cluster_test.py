#!/usr/bin/env python3
"""Multi-instance test: real PostgreSQL + two Tessera instances + real nginx, all on loopback.

    python3 tests/cluster/cluster_test.py [--bin target/debug/tessera]

Starts a throwaway PostgreSQL cluster (tests/cluster/pg.sh), two `tessera serve` instances
sharing it and one signing key, and nginx configured from deploy/nginx/tessera.conf (rendered
with a self-signed certificate and loopback ports) in front of them; then checks what issue 4
asks of a cluster:

- login through nginx (HTTPS) works;
- a refresh on instance B, then reuse of the spent token on instance A, revokes the family;
- 50 concurrent refreshes of one token spread over both instances rotate it exactly once;
- logout-all on A makes the old access token fail on B (at once: every authenticated request
  reads the user's revocation time from the database; no per-instance cache to invalidate);
- both instances starting at once on an empty database migrate it without racing, and a later
  `tessera migrate` is a no-op;
- while PostgreSQL is down, state-touching requests answer 503 with a JSON body, and both
  instances serve again once it is back, without a restart;
- failed logins are counted in the database: failures spread over both instances lock the
  username on both (Tessera's 429, Retry-After, DRF's throttle body);
- with one instance stopped, nginx keeps serving through the other;
- nginx's login rate limit answers 429 with a JSON body and Retry-After.

Needs: the `tessera` binary built with PostgreSQL support (`cargo build -p tessera-cli`), the
Debian packages postgresql and nginx, and openssl. Only python3's standard library.
Prints `cluster: N passed, M failed` and exits non-zero when anything failed.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
USERNAME = "alice"
PASSWORD = "correct horse battery staple"
CONCURRENT_REFRESHES = 50


def log(msg: str) -> None:
    print(f"cluster: {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64json(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def claims(token: str) -> dict:
    return b64json(token.split(".")[1])


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<{self.status} {self.body[:200]!r}>"


class Client:
    """A tiny HTTP client (urllib) that returns every status instead of raising."""

    def __init__(self, base: str, context: ssl.SSLContext | None = None):
        self.base = base
        self.context = context

    def request(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> Response:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.context) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def login(self, username: str = USERNAME, password: str = PASSWORD) -> Response:
        return self.request("POST", "/api/token/", {"username": username, "password": password})

    def refresh(self, refresh: str) -> Response:
        return self.request("POST", "/api/token/refresh/", {"refresh": refresh})

    def me(self, access: str) -> Response:
        return self.request("GET", "/api/me/", token=access)


class Cluster:
    def __init__(self, binary: Path, work: Path):
        self.binary = binary
        self.work = work
        self.pg_dir: str | None = None
        self.database_url: str | None = None
        self.instances: dict[str, tuple[subprocess.Popen, int]] = {}
        self.nginx_prefix: Path | None = None
        self.https_port = 0
        self.ca: Path | None = None

    # --- PostgreSQL ---------------------------------------------------------------------
    def start_postgres(self) -> None:
        out = subprocess.run([str(HERE / "pg.sh"), "start"], check=True, capture_output=True, text=True)
        values = {}
        for line in out.stdout.splitlines():
            if "=" in line and not line.startswith("export"):
                key, value = line.split("=", 1)
                values[key] = value.strip("'")
        self.pg_dir = values["TESSERA_PG_DIR"]
        self.database_url = values["TESSERA_TEST_DATABASE_URL"]
        log(f"postgres up in {self.pg_dir}")

    def psql(self, sql: str) -> str:
        out = subprocess.run(
            ["psql", self.database_url, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    # --- Tessera ------------------------------------------------------------------------
    def env(self, data_dir: Path, listen: str | None = None) -> dict[str, str]:
        env = dict(os.environ)
        # Only this test's settings: nothing inherited from the caller's TESSERA_* variables.
        for key in [k for k in env if k.startswith("TESSERA_")]:
            del env[key]
        env.update(
            {
                "TESSERA_CONFIG": str(ROOT / "deploy" / "tessera.toml"),
                "TESSERA_DATA_DIR": str(data_dir),
                "TESSERA_DATABASE_URL": self.database_url,
                "TESSERA_SIGNING_KEY_FILE": str(self.work / "keys" / "private.pem"),
                # Reuse of a spent token is only forgiven within this window; the reuse case
                # waits past it.
                "TESSERA_REFRESH_REUSE_GRACE": "1s",
                "RUST_LOG": os.environ.get("RUST_LOG", "warn"),
            }
        )
        if listen is not None:
            env["TESSERA_LISTEN"] = listen
        return env

    def tessera(self, *args: str, stdin: str | None = None, data_dir: Path | None = None) -> subprocess.CompletedProcess:
        data_dir = data_dir or self.work / "cli-data"
        return subprocess.run(
            [str(self.binary), *args],
            env=self.env(data_dir),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def generate_key(self) -> None:
        # The example configuration signs with EdDSA; all instances share this one key.
        out = self.tessera("keys", "generate", "--alg", "EdDSA", "--out", str(self.work / "keys"))
        if out.returncode != 0:
            raise RuntimeError(f"keys generate failed: {out.stderr}")
        private = [p for p in (self.work / "keys").iterdir() if "private" in p.name]
        if not private:
            raise RuntimeError(f"no private key among {list((self.work / 'keys').iterdir())}")
        if private[0].name != "private.pem":
            private[0].rename(self.work / "keys" / "private.pem")

    def start_instance(self, name: str) -> None:
        port = free_port()
        data_dir = self.work / f"data-{name}"
        logfile = open(self.work / f"tessera-{name}.log", "wb")
        proc = subprocess.Popen(
            [str(self.binary), "serve"],
            env=self.env(data_dir, f"127.0.0.1:{port}"),
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.instances[name] = (proc, port)

    def wait_ready(self, name: str, limit: float = 60.0) -> None:
        proc, port = self.instances[name]
        client = self.direct(name)
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"instance {name} exited with {proc.returncode}; log:\n{self.log_of(name)}")
            try:
                if client.request("GET", "/readyz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"instance {name} not ready after {limit}s; log:\n{self.log_of(name)}")

    def log_of(self, name: str) -> str:
        return (self.work / f"tessera-{name}.log").read_text(errors="replace")[-4000:]

    def stop_instance(self, name: str) -> None:
        proc, _ = self.instances[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def direct(self, name: str) -> Client:
        return Client(f"http://127.0.0.1:{self.instances[name][1]}")

    # --- nginx --------------------------------------------------------------------------
    def start_nginx(self) -> None:
        prefix = self.work / "nginx"
        prefix.mkdir()
        # nginx's workers run as `nobody` when the master is root; they must reach the prefix.
        for p in (self.work, prefix):
            p.chmod(0o755)
        cert, key = prefix / "cert.pem", prefix / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        self.ca = cert
        self.https_port, http_port = free_port(), free_port()
        site = (ROOT / "deploy" / "nginx" / "tessera.conf").read_text()
        a, b = self.instances["A"][1], self.instances["B"][1]
        replacements = [
            ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{a} "),
            ("server 127.0.0.1:8002 ", f"server 127.0.0.1:{b} "),
            ("/etc/ssl/tessera/fullchain.pem", str(cert)),
            ("/etc/ssl/tessera/privkey.pem", str(key)),
            ("/var/log/nginx/tessera.access.log", str(prefix / "access.log")),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;"),
            ("listen 80;", f"listen 127.0.0.1:{http_port};"),
            ("listen [::]:443 ssl http2;", ""),
            ("listen [::]:80;", ""),
        ]
        for old, new in replacements:
            # The deployment file is what is tested: if it changes shape, fail loudly here.
            if old not in site:
                raise RuntimeError(f"deploy/nginx/tessera.conf no longer contains {old!r}")
            site = site.replace(old, new)
        (prefix / "site.conf").write_text(site)
        (prefix / "nginx.conf").write_text(
            f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/site.conf;
}}
"""
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        conf = ["-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
        subprocess.run([nginx, "-t", *conf], check=True, capture_output=True)
        subprocess.run([nginx, *conf], check=True)
        self.nginx_prefix = prefix
        client = self.via_nginx()
        deadline = time.monotonic() + 30
        while True:
            try:
                client.request("GET", "/.well-known/jwks.json")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        log(f"nginx up on https://127.0.0.1:{self.https_port}")

    def via_nginx(self) -> Client:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        return Client(f"https://127.0.0.1:{self.https_port}", ctx)

    def stop_nginx(self) -> None:
        if self.nginx_prefix is None:
            return
        pidfile = self.nginx_prefix / "nginx.pid"
        if pidfile.exists():
            pid = int(pidfile.read_text().strip())
            os.kill(pid, signal.SIGQUIT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and pidfile.exists():
                time.sleep(0.05)

    def teardown(self) -> None:
        self.stop_nginx()
        for name in list(self.instances):
            self.stop_instance(name)
        if self.pg_dir:
            subprocess.run([str(HERE / "pg.sh"), "stop", self.pg_dir], check=False)


# --- the checks -------------------------------------------------------------------------------


def check_migrations_raced_safely(c: Cluster) -> None:
    # Both instances were started at the same moment against an empty database and are ready, so
    # one of them migrated while the other waited on the advisory lock. A second migrate does
    # nothing and succeeds.
    out = c.tessera("migrate")
    assert out.returncode == 0, f"tessera migrate failed: {out.stderr}"
    assert c.psql("SELECT count(*) FROM users") == "1", "the user created through the CLI is there"


def check_login_via_nginx(c: Cluster) -> None:
    r = c.via_nginx().login()
    assert r.status == 200, r
    body = r.json()
    assert list(body) == ["refresh", "access"], body
    assert claims(body["access"])["token_type"] == "access"
    me = c.via_nginx().me(body["access"])
    assert me.status == 200, me
    assert me.json()["username"] == USERNAME, me.json()
    # The same token is accepted by both instances directly: they share the signing key.
    for name in ("A", "B"):
        assert c.direct(name).me(body["access"]).status == 200


def check_reuse_across_instances_revokes_family(c: Cluster) -> None:
    first = c.direct("A").login().json()
    rotated = c.direct("B").refresh(first["refresh"])
    assert rotated.status == 200, rotated
    second = rotated.json()
    assert second["refresh"] != first["refresh"]
    # Past the reuse grace window, presenting the spent token again is a replay. The window is
    # 1 s here and compared in whole seconds (so it lasts up to 2 s): wait clearly past it.
    time.sleep(2.5)
    reuse = c.direct("A").refresh(first["refresh"])
    assert reuse.status == 401, reuse
    assert reuse.json().get("code") == "token_not_valid", reuse
    # The whole family is revoked: the current refresh token is dead on either instance.
    for name in ("A", "B"):
        r = c.direct(name).refresh(second["refresh"])
        assert r.status == 401, (name, r)


def check_concurrent_refreshes_rotate_once(c: Cluster) -> None:
    token = c.direct("B").login().json()["refresh"]
    jti = claims(token)["jti"]
    clients = [c.direct("A"), c.direct("B")]
    barrier = threading.Barrier(CONCURRENT_REFRESHES)

    def one(i: int) -> Response:
        barrier.wait(timeout=60)
        return clients[i % 2].refresh(token)

    with concurrent.futures.ThreadPoolExecutor(CONCURRENT_REFRESHES) as pool:
        results = list(pool.map(one, range(CONCURRENT_REFRESHES)))
    statuses = sorted({r.status for r in results})
    assert set(statuses) <= {200, 401}, f"unexpected statuses {statuses}: {[r for r in results if r.status not in (200, 401)][:3]}"
    new_refresh = {r.json()["refresh"] for r in results if r.status == 200}
    # Exactly one rotation: every 200 carries the same new refresh token (the winner's, or the
    # family's current one given again inside the grace window to a loser); the losers outside
    # it got 401 and revoked the family, which is reuse detection working.
    assert len(new_refresh) == 1, f"{len(new_refresh)} different new refresh tokens"
    assert token not in new_refresh
    # And in the database: the family has exactly two tokens (generations 0 and 1).
    family_rows = c.psql(
        "SELECT count(*) FROM refresh_tokens WHERE family_id = "
        f"(SELECT family_id FROM refresh_tokens WHERE jti = '{jti}')"
    )
    assert family_rows == "2", f"family has {family_rows} refresh tokens"
    log(f"  {CONCURRENT_REFRESHES} refreshes: {sum(r.status == 200 for r in results)} x 200, "
        f"{sum(r.status == 401 for r in results)} x 401, 1 rotation")


def check_logout_all_reaches_other_instance(c: Cluster) -> None:
    tokens = c.direct("B").login().json()
    access = tokens["access"]
    assert c.direct("B").me(access).status == 200
    out = c.direct("A").request("POST", LOGOUT_ALL_PATH, {}, token=access)
    assert out.status in (200, 204), out
    # No waiting: B reads the user's tokens_valid_after from PostgreSQL on every request.
    r = c.direct("B").me(access)
    assert r.status == 401, r
    assert c.direct("B").refresh(tokens["refresh"]).status == 401
    # A new login works at once afterwards (its iat is not before the revocation).
    again = c.direct("A").login()
    assert again.status == 200, again
    assert c.direct("B").me(again.json()["access"]).status == 200


def check_database_outage_answers_503_and_recovers(c: Cluster) -> None:
    tokens = c.direct("A").login().json()
    subprocess.run([str(HERE / "pg.sh"), "down", c.pg_dir], check=True)
    try:
        # Everything that reads or writes state (verify too: it checks the user's revocation
        # time) answers 503 with a JSON body — never a 500, a hang or an HTML page.
        for name, r in [
            ("verify", c.direct("B").request("POST", "/api/token/verify/", {"token": tokens["access"]})),
            ("refresh", c.direct("B").refresh(tokens["refresh"])),
            ("me", c.direct("A").me(tokens["access"])),
            ("readyz", c.direct("A").request("GET", "/readyz")),
        ]:
            assert r.status == 503, (name, r)
            assert r.headers.get("Content-Type", "").startswith("application/json"), (name, r.headers)
            assert "detail" in r.json(), (name, r)
    finally:
        subprocess.run([str(HERE / "pg.sh"), "up", c.pg_dir], check=True)
    # Same processes, no restart: the pools reconnect. Readiness first, then real work.
    for name in ("A", "B"):
        c.wait_ready(name, limit=30)
    r = c.direct("B").refresh(tokens["refresh"])
    assert r.status == 200, r
    assert c.direct("A").me(r.json()["access"]).status == 200


def check_failed_logins_count_across_instances(c: Cluster) -> None:
    # deploy/tessera.toml: 5 failures per username, first lockout 1 minute. An unknown username
    # is counted like a known one. Direct connections come from 127.0.0.1, a trusted proxy there,
    # so without X-Forwarded-For the address is 127.0.0.1 itself (5 of its 20 failures).
    username = f"guess-target-{os.getpid()}"
    for i in range(5):
        r = c.direct("AB"[i % 2]).login(username, "wrong password")
        assert r.status == 401, (i, r)
    for name in "AB":
        r = c.direct(name).login(username, "wrong password")
        assert r.status == 429, (name, r)
        wait = int(r.headers.get("Retry-After", "0"))
        assert 0 < wait <= 60, r.headers
        unit = "second" if wait == 1 else "seconds"
        assert r.json() == {"detail": f"Request was throttled. Expected available in {wait} {unit}."}, r
    # Another user from the same address is unaffected.
    assert c.direct("B").login().status == 200


def check_failover(c: Cluster) -> None:
    access = c.direct("B").login().json()["access"]
    c.stop_instance("A")
    for _ in range(4):
        r = c.via_nginx().me(access)
        assert r.status == 200, r


def check_nginx_limits_logins_with_json_429(c: Cluster) -> None:
    # deploy/nginx/tessera.conf allows 10 logins a minute per address with a burst of 5: of 12
    # arriving together at most 6 (plus any the rate refilled meanwhile) reach an instance, and
    # the rest get nginx's 429 in Tessera's JSON shape. Empty bodies: the ones that pass get
    # Tessera's 400 at once, with no password hashing.
    def one(_: int) -> Response:
        return c.via_nginx().request("POST", "/api/token/", {})

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        results = list(pool.map(one, range(12)))
    limited = [r for r in results if r.status == 429]
    assert limited, f"no 429 among {sorted(r.status for r in results)}"
    assert all(r.status in (400, 429) for r in results), sorted(r.status for r in results)
    for r in limited:
        assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
        assert r.headers.get("Retry-After"), r.headers
        assert r.json() == {"detail": "Request was throttled."}, r
    log(f"  12 logins at once through nginx: {len(results) - len(limited)} passed, {len(limited)} x 429")


LOGOUT_ALL_PATH = "/api/token/logout-all/"

CHECKS = [
    check_migrations_raced_safely,
    check_login_via_nginx,
    check_reuse_across_instances_revokes_family,
    check_concurrent_refreshes_rotate_once,
    check_logout_all_reaches_other_instance,
    check_database_outage_answers_503_and_recovers,
    check_failed_logins_count_across_instances,
    check_failover,  # stops instance A
    check_nginx_limits_logins_with_json_429,  # last: it spends this address's login budget
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=os.environ.get("TESSERA_BIN", str(ROOT / "target" / "debug" / "tessera")))
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args()
    binary = Path(args.bin).resolve()
    if not binary.exists():
        log(f"no binary at {binary}: build it with `cargo build -p tessera-cli`")
        return 2

    work = Path(tempfile.mkdtemp(prefix="tessera-cluster."))
    cluster = Cluster(binary, work)
    passed = failed = 0
    try:
        cluster.start_postgres()
        cluster.generate_key()
        # Both instances at once on an empty database: the migrations must not race.
        cluster.start_instance("A")
        cluster.start_instance("B")
        cluster.wait_ready("A")
        cluster.wait_ready("B")
        out = cluster.tessera("user", "create", USERNAME, "--password-stdin", stdin=PASSWORD + "\n")
        if out.returncode != 0:
            raise RuntimeError(f"user create failed: {out.stderr}")
        cluster.start_nginx()
        for check in CHECKS:
            name = check.__name__.removeprefix("check_")
            try:
                check(cluster)
            except Exception:
                failed += 1
                log(f"FAIL {name}")
                traceback.print_exc()
            else:
                passed += 1
                log(f"ok   {name}")
    except Exception:
        failed += 1
        log("FAIL setup")
        traceback.print_exc()
        for name in cluster.instances:
            print(f"--- instance {name} log ---\n{cluster.log_of(name)}")
    finally:
        cluster.teardown()
        if args.keep or failed:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"cluster: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
