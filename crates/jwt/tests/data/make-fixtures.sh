#!/bin/sh
# Regenerates the key fixtures and the OpenSSL-signed tokens in this directory.
# Requires OpenSSL 3 (tested with 3.0.19). Keys are test-only and never used elsewhere.
set -eu
cd "$(dirname "$0")"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048.pkcs8.pem
openssl pkey -in rsa2048.pkcs8.pem -traditional -out rsa2048.pkcs1.pem
openssl pkey -in rsa2048.pkcs8.pem -pubout -out rsa2048.pub.pem
openssl rsa -in rsa2048.pkcs8.pem -RSAPublicKey_out -out rsa2048.pub.pkcs1.pem
openssl pkey -in rsa2048.pkcs8.pem -outform DER -out rsa2048.pkcs8.der
openssl pkey -in rsa2048.pkcs8.pem -pubout -outform DER -out rsa2048.pub.der

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.pkcs8.pem
openssl pkey -in rsa1024.pkcs8.pem -pubout -out rsa1024.pub.pem

# SEC1 with the EC PARAMETERS block first, as `openssl ecparam -genkey` writes it.
openssl ecparam -name prime256v1 -genkey -out ec256.sec1.pem
openssl pkcs8 -topk8 -nocrypt -in ec256.sec1.pem -out ec256.pkcs8.pem
openssl pkey -in ec256.pkcs8.pem -pubout -out ec256.pub.pem
openssl pkey -in ec256.pkcs8.pem -pubout -outform DER -out ec256.pub.der
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ec384.pkcs8.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out ec521.pkcs8.pem
openssl pkey -in ec521.pkcs8.pem -pubout -out ec521.pub.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out secp256k1.pkcs8.pem

openssl genpkey -algorithm ED25519 -out ed25519.pkcs8.pem
openssl pkey -in ed25519.pkcs8.pem -pubout -out ed25519.pub.pem

# Tokens signed by OpenSSL (deterministic algorithms, so Tessera must produce the same bytes).
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
header_rs='{"alg":"RS256","typ":"JWT"}'
header_ed='{"alg":"EdDSA","typ":"JWT"}'
payload='{"sub":"openssl","exp":4102444800}'
si_rs="$(printf '%s' "$header_rs" | b64url).$(printf '%s' "$payload" | b64url)"
si_ed="$(printf '%s' "$header_ed" | b64url).$(printf '%s' "$payload" | b64url)"
sig_rs=$(printf '%s' "$si_rs" | openssl dgst -sha256 -sign rsa2048.pkcs8.pem | b64url)
printf '%s' "$si_ed" > /tmp/ed-signing-input.$$
sig_ed=$(openssl pkeyutl -sign -rawin -inkey ed25519.pkcs8.pem -in /tmp/ed-signing-input.$$ | b64url)
rm -f /tmp/ed-signing-input.$$
printf '%s.%s\n' "$si_rs" "$sig_rs" > rs256.openssl.jwt
printf '%s.%s\n' "$si_ed" "$sig_ed" > eddsa.openssl.jwt
