//! Integration tests for the `tessera` binary: each test runs the built executable in a fresh
//! temporary directory and checks its stdout, stderr, exit status and the files it writes.

mod decode;
mod encode;
mod keys;
mod operations;
mod shutdown;
mod user;
mod util;
mod verify;
