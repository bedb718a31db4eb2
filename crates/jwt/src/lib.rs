//! Tessera JOSE core (work in progress).
