#!/usr/bin/env python3
"""Print COUNT valid HS256 access tokens of about SIZE bytes, signed with the secret in FILE.

    bigtoken.py SECRET_FILE SIZE COUNT [USER_ID]

For the token-size scenario: the claims are those of a simplejwt/Tessera access token
(token_type, exp, iat, jti, user_id, reference §3.1) plus one `pad` string claim that brings the
compact token to SIZE bytes, the way large custom claims (roles, tenant lists) grow real tokens.
The file's text is the HMAC secret (as `tessera keys generate --alg HS256` writes it and as
simplejwt uses SIGNING_KEY). Standard library only.
"""

import base64
import hashlib
import hmac
import json
import secrets
import sys
import time


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret, size, user_id):
    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {
        "token_type": "access",
        "exp": now + 3600,
        "iat": now,
        "jti": secrets.token_hex(16),
        "user_id": user_id,
        "pad": "",
    }

    def build(pad_len):
        claims["pad"] = "x" * pad_len
        payload = b64(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}".encode()
        sig = b64(hmac.new(secret, signing_input, hashlib.sha256).digest())
        return f"{header}.{payload}.{sig}"

    base = len(build(0))
    # base64url grows by 4/3: choose the pad so the whole token lands at SIZE bytes (or just over).
    return build(max(0, (size - base) * 3 // 4))


def main():
    secret = open(sys.argv[1], "rb").read().strip()
    size, count = int(sys.argv[2]), int(sys.argv[3])
    user_id = sys.argv[4] if len(sys.argv) > 4 else "1"
    for _ in range(count):
        print(token(secret, size, user_id))


if __name__ == "__main__":
    main()
