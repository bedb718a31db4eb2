//! Tessera token service (work in progress).
