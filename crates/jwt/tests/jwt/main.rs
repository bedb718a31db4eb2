//! Integration tests of tessera-jwt: known-answer vectors, hostile inputs, keys, properties.

mod common;
mod hostile;
mod keys;
mod roundtrip;
mod vectors;
