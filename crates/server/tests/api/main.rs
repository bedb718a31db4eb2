//! The token service over real HTTP: one test binary, one module per concern.

// Test modules share `pub` helpers inside this private test crate; nothing here is public API.
#![allow(unreachable_pub)]

mod helpers;

mod auth;
mod bad_input;
mod blacklist;
mod django_interop;
mod hostile_input;
mod obtain;
mod refresh;
mod service;
mod sessions;
mod store;
mod throttle;
mod tls;
mod verify;
mod wire_contract;
