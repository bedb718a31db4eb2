//! Small helpers for writing command output to stdout.

use std::io::{self, Write};

/// Writes `text` followed by a newline to stdout.
///
/// Unlike `println!`, a closed pipe becomes an error (handled quietly in `main`) instead of a
/// panic.
pub(crate) fn print_line(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Whether `err` was caused by writing to a closed pipe.
pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
