//! Interoperability with JWT implementations we did not write, for every algorithm and in both
//! directions: the `jsonwebtoken` crate (in-process) and PyJWT (a Python process driven through
//! `pyjwt_interop.py`). Keys come from `tessera_jwt::Key::generate` and cross over as PEM (and
//! the HMAC secret from our private JWK), so key export is exercised too.
//!
//! PyJWT needs a Python interpreter with `PyJWT[crypto]`: `TESSERA_PYTHON`, else the repository's
//! `.venv` (made by `scripts/test.sh`).

mod fixtures;
mod jsonwebtoken_crate;
mod pyjwt;
