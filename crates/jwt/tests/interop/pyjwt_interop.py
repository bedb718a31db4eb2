"""PyJWT side of Tessera's interoperability tests (driven by tests/interop/pyjwt.rs).

Reads one JSON object from stdin: {"ops": [op, ...]} and writes {"results": [result, ...]} to
stdout, one result per op, in order. Ops:

  {"op": "encode", "alg": "HS256", "key": KEY, "claims": {...}, "headers": {...}}
      -> {"token": "..."}                      (jwt.encode; claims keep their JSON order)
  {"op": "decode", "alg": "HS256", "key": KEY, "token": "..."}
      -> {"ok": true, "header": {...}, "claims": {...}} or {"ok": false, "error": "..."}
         (jwt.decode with signature, exp and iat checks, only `alg` allowed)
  {"op": "version"} -> {"pyjwt": "2.x.y", "cryptography": "..."}

KEY is {"secret_hex": "..."} for HMAC or {"pem": "..."} for a PEM private/public key.
Anything unexpected makes the script exit non-zero with the reason on stderr, so the Rust test
fails loudly rather than comparing against a half-run.
"""

import json
import sys

try:
    import cryptography
    import jwt
except ImportError as exc:  # pragma: no cover - environment problem, reported to the Rust test
    sys.stderr.write(
        f"pyjwt_interop.py: cannot import PyJWT with crypto support ({exc}); "
        "install it with: pip install 'PyJWT[crypto]==2.*'\n"
    )
    sys.exit(3)


def load_key(spec):
    if "secret_hex" in spec:
        return bytes.fromhex(spec["secret_hex"])
    if "pem" in spec:
        return spec["pem"].encode("ascii")
    raise ValueError(f"unknown key spec members: {sorted(spec)}")


def run(op):
    kind = op["op"]
    if kind == "version":
        return {"pyjwt": jwt.__version__, "cryptography": cryptography.__version__}
    key = load_key(op["key"])
    alg = op["alg"]
    if kind == "encode":
        token = jwt.encode(op["claims"], key, algorithm=alg, headers=op.get("headers") or None)
        return {"token": token}
    if kind == "decode":
        token = op["token"]
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                options={"require": ["exp", "iat"], "verify_signature": True},
            )
        except jwt.PyJWTError as exc:
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        return {"ok": True, "header": jwt.get_unverified_header(token), "claims": claims}
    raise ValueError(f"unknown op {kind!r}")


def main():
    request = json.load(sys.stdin)
    results = [run(op) for op in request["ops"]]
    json.dump({"results": results}, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
