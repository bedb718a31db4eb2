//! Per-request observation: a request id, one access-log line and the HTTP metrics.
//!
//! The request id is the client's `X-Request-Id` when it is well formed (1–128 characters of
//! `A–Z a–z 0–9 - _ . :`, e.g. a UUID set by nginx), else a fresh one; it is echoed in the
//! response and is a field of the request's span, so every event of the request (audit events
//! included) carries it. The log line has the method, the matched route (never the raw path or
//! query), the status and the latency — never headers, cookies or bodies.
//!
//! It also sets the headers every response of a route carries: `Allow` (reference §2.2) and,
//! on a 401, `WWW-Authenticate: <first auth_header_types entry> realm="api"` (RFC 6750 §3) —
//! in this one layer, which every request passes through anyway.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

/// The request id header.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The `WWW-Authenticate` value of this server's 401 answers, built once.
#[derive(Clone, Debug)]
pub struct Challenge(HeaderValue);

impl Challenge {
    /// `<scheme> realm="api"` for the first accepted `Authorization` scheme.
    pub fn new(scheme: &str) -> Challenge {
        Challenge(
            HeaderValue::from_str(&format!("{scheme} realm=\"api\""))
                .unwrap_or(HeaderValue::from_static("Bearer realm=\"api\"")),
        )
    }
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn observe(State(challenge): State<Challenge>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = request
        .headers()
        .get(&X_REQUEST_ID)
        .filter(|v| well_formed(v.as_bytes()))
        .cloned()
        .unwrap_or_else(new_id);
    // A cheap clone (the pattern is shared), so no string is copied per request.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let method = request.method().clone();
    // Plain `&str` fields: recorded as strings, without the formatting machinery.
    let span = tracing::info_span!(
        "request",
        request_id = id.to_str().unwrap_or_default(),
        method = method.as_str(),
        route = route,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            target: "access",
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
    });
    if crate::metrics::recording() {
        let labels = [
            ("method", method.as_str().to_owned()),
            ("route", route.to_owned()),
            ("status", status.to_string()),
        ];
        metrics::counter!("tessera_http_requests_total", &labels).increment(1);
        metrics::histogram!("tessera_http_request_duration_seconds", &labels)
            .record(elapsed.as_secs_f64());
    }
    let headers = response.headers_mut();
    if let Some(route) = &matched {
        headers.insert(
            header::ALLOW,
            HeaderValue::from_static(crate::routes::allow_for(route.as_str())),
        );
    }
    if status == StatusCode::UNAUTHORIZED.as_u16()
        && !headers.contains_key(header::WWW_AUTHENTICATE)
    {
        headers.insert(header::WWW_AUTHENTICATE, challenge.0);
    }
    headers.insert(X_REQUEST_ID, id);
    response
}

fn well_formed(id: &[u8]) -> bool {
    (1..=128).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A random per-process prefix and a counter: unique across instances and restarts without a
/// random draw per request.
fn new_id() -> HeaderValue {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 8];
        // Without randomness the ids are still unique within this process.
        let _ = getrandom::fill(&mut bytes);
        hex::encode(bytes)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // `<16 hex>-<counter in hex>` written into a stack buffer: no formatting per request.
    let mut buf = [0u8; 16 + 1 + 16];
    buf[..16].copy_from_slice(prefix.as_bytes());
    buf[16] = b'-';
    let digits = (64 - n.leading_zeros()).div_ceil(4).max(1) as usize;
    for (i, byte) in buf[17..17 + digits].iter_mut().enumerate() {
        let nibble = (n >> (4 * (digits - 1 - i))) & 0xf;
        *byte = b"0123456789abcdef"[nibble as usize];
    }
    HeaderValue::from_bytes(&buf[..17 + digits]).unwrap_or(HeaderValue::from_static("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_checked_and_unique() {
        assert!(well_formed(b"3f1c0b52-9a4e-4c53-8f1e-0d6f2b9a7c11"));
        assert!(!well_formed(b""));
        assert!(!well_formed(b"a b"));
        assert!(!well_formed(b"x\"y"));
        assert!(!well_formed(&[b'a'; 129]));
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert!(well_formed(a.as_bytes()));
        // The counter part is lowercase hex without leading zeros, like `{:x}`.
        let (prefix, counter) = a.to_str().unwrap().split_once('-').unwrap();
        assert_eq!(prefix.len(), 16);
        let n = u64::from_str_radix(counter, 16).unwrap();
        assert_eq!(counter, format!("{n:x}"));
        let next = b.to_str().unwrap().split_once('-').unwrap().1;
        assert!(u64::from_str_radix(next, 16).unwrap() > n);
    }
}
