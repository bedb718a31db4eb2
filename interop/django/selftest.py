#!/usr/bin/env python3
"""Checks that the fixture works with the installed packages; run by scripts/test.sh.

Starts `manage.py serve_fixture` on a free loopback port with a throwaway database and secret,
then: logs in, calls the protected view, verifies, rotates and blacklists, and shows that an
HS256 access token made by another implementation (PyJWT here, Tessera in the Rust tests) with
the shared secret is accepted by JWTAuthentication. Exit status 0 when every step behaved as
simplejwt 5.5.1 does; the first deviation is printed and exits 1.
"""

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import jwt

HERE = Path(__file__).resolve().parent


def request(base: str, method: str, path: str, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def expect(what: str, got, want) -> None:
    if got != want:
        sys.exit(f"interop/django selftest: {what}: expected {want!r}, got {got!r}")


def main() -> None:
    secret = secrets.token_hex(32)
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="tessera-django-") as tmp:
        env = dict(os.environ, SIMPLEJWT_SIGNING_KEY=secret, DJANGO_INTEROP_DB=str(Path(tmp) / "db.sqlite3"))
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve_fixture", "--port", "0", "--id", "1", "--username", "alice", "--password-stdin"],
            cwd=HERE, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        try:
            server.stdin.write(password + "\n")
            server.stdin.close()
            base = server.stdout.readline().strip()
            if not base.startswith("http://127.0.0.1:"):
                sys.exit(f"interop/django selftest: serve_fixture did not print its URL (exit {server.wait()})")

            status, pair = request(base, "POST", "/api/token/", {"username": "alice", "password": password})
            expect("login status", status, 200)
            expect("login body keys", list(pair), ["refresh", "access"])

            status, body = request(base, "GET", "/api/protected/", token=pair["access"])
            expect("protected view with simplejwt's token", (status, body["user_id"], body["token_user_id"]), (200, 1, "1"))

            status, body = request(base, "POST", "/api/token/verify/", {"token": pair["access"]})
            expect("verify", (status, body), (200, {}))

            status, rotated = request(base, "POST", "/api/token/refresh/", {"refresh": pair["refresh"]})
            expect("refresh with rotation", (status, list(rotated)), (200, ["access", "refresh"]))
            status, body = request(base, "POST", "/api/token/refresh/", {"refresh": pair["refresh"]})
            expect("reuse of a rotated refresh token", (status, body.get("detail")), (401, "Token is blacklisted"))

            status, body = request(base, "POST", "/api/token/blacklist/", {"refresh": rotated["refresh"]})
            expect("blacklist", (status, body), (200, {}))

            # The token Tessera emits (shared/reference/simplejwt-5.5.md §3.1), made by another signer.
            now = int(time.time())
            claims = {"token_type": "access", "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex, "user_id": "1"}
            foreign = jwt.encode(claims, secret, algorithm="HS256")
            status, body = request(base, "GET", "/api/protected/", token=foreign)
            expect("protected view with a foreign HS256 token", (status, body["user_id"], body["jti"]), (200, 1, claims["jti"]))

            forged = jwt.encode(claims, secrets.token_hex(32), algorithm="HS256")
            status, body = request(base, "GET", "/api/protected/", token=forged)
            expect("protected view with a token signed by another secret", (status, body.get("code")), (401, "token_not_valid"))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("interop/django selftest: ok")


if __name__ == "__main__":
    main()
