#!/usr/bin/env python3
"""Log in COUNT times (in parallel) and write the access and refresh tokens, one per line.

    mint.py URL COUNT --users N --prefix P --access FILE --refresh FILE [--parallel K]

The password comes from $BENCH_PASSWORD. Logins are slow by design (Argon2id, PBKDF2), so they
run K at a time; each login is a new session (refresh-token family). Exits non-zero if any login
fails, so a run never measures with missing tokens. Standard library only.
"""

import argparse
import concurrent.futures
import json
import os
import sys
import urllib.request


def login(url, username, password):
    body = json.dumps({"username": username, "password": password}).encode()
    req = urllib.request.Request(
        url + "/api/token/", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=120) as resp:
        pair = json.load(resp)
    return pair["access"], pair["refresh"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("count", type=int)
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--prefix", default="bench")
    ap.add_argument("--access", required=True)
    ap.add_argument("--refresh", required=True)
    ap.add_argument("--parallel", type=int, default=8)
    args = ap.parse_args()
    password = os.environ["BENCH_PASSWORD"]
    names = [f"{args.prefix}{i % args.users + 1:04d}" for i in range(args.count)]
    with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
        pairs = list(pool.map(lambda n: login(args.url, n, password), names))
    with open(args.access, "w") as a, open(args.refresh, "w") as r:
        for access, refresh in pairs:
            a.write(access + "\n")
            r.write(refresh + "\n")


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # report which step failed, never a token
        print(f"mint.py: login failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
