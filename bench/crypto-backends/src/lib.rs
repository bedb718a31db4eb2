//! Nothing here: the benchmark lives in `benches/backends.rs`. The library target only exists so
//! that `cargo bench` has a package to attach the bench to.
