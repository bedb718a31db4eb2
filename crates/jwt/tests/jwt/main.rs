//! Integration tests of tessera-jwt: known-answer vectors, hostile inputs, keys, properties.

mod common;
mod hostile;
mod keys;
mod props;
mod roundtrip;
mod vectors;
