//! Per-request observation: a request id, one access-log line and the HTTP metrics.
//!
//! The request id is the client's `X-Request-Id` when it is well formed (1–128 characters of
//! `A–Z a–z 0–9 - _ . :`, e.g. a UUID set by nginx), else a fresh one; it is echoed in the
//! response and is a field of the request's span, so every event of the request (audit events
//! included) carries it. The log line has the method, the route (one of [`routes::PATHS`],
//! never the raw path or query), the status and the latency — never headers, cookies or bodies.
//!
//! It also sets the headers every response of a route carries: `Allow` (reference §2.2) and,
//! on a 401, `WWW-Authenticate: <first auth_header_types entry> realm="api"` (RFC 6750 §3); and
//! it turns a panic in a handler into a logged 500 instead of a dropped connection.
//!
//! [`Observe`] wraps the whole router once, as a plain service. Written as `Router::layer`
//! middleware (`axum::middleware::from_fn` and `tower_http`'s `CatchPanicLayer`) the same work
//! cost about a tenth of the `/api/me/` throughput: each layer is applied to every route and
//! re-boxes and clones that route's service per request (`bench/RESULTS.md`).
//!
//! [`routes::PATHS`]: crate::routes::PATHS

use std::convert::Infallible;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use tower_service::Service;
use tracing::Span;

use crate::error::ApiError;

/// The request id header.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The `WWW-Authenticate` value of this server's 401 answers, built once.
#[derive(Clone, Debug)]
pub struct Challenge(HeaderValue);

impl Challenge {
    /// `<scheme> realm="api"` for the first accepted `Authorization` scheme.
    ///
    /// Every request's future carries a clone: static values for the usual schemes, so that
    /// clone touches no reference count shared between the runtime's threads.
    pub fn new(scheme: &str) -> Challenge {
        Challenge(match scheme {
            "Bearer" => HeaderValue::from_static("Bearer realm=\"api\""),
            "JWT" => HeaderValue::from_static("JWT realm=\"api\""),
            _ => HeaderValue::from_str(&format!("{scheme} realm=\"api\""))
                .unwrap_or(HeaderValue::from_static("Bearer realm=\"api\"")),
        })
    }
}

/// The outermost service: every request, routed or not, passes through it once.
#[derive(Clone, Debug)]
pub struct Observe<S> {
    inner: S,
    challenge: Challenge,
}

impl<S> Observe<S> {
    /// Observes every request `inner` answers.
    pub fn new(inner: S, challenge: Challenge) -> Observe<S> {
        Observe { inner, challenge }
    }
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    // The router's future is; requiring it keeps this free of pin projections.
    S::Future: Unpin,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ObserveFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> ObserveFuture<S::Future> {
        let start = Instant::now();
        let id = request
            .headers()
            .get(&X_REQUEST_ID)
            .filter(|v| well_formed(v.as_bytes()))
            .cloned()
            .unwrap_or_else(new_id);
        let route = crate::routes::route(request.uri().path());
        let method = request.method().clone();
        // Plain `&str` fields: recorded as strings, without the formatting machinery.
        let span = tracing::info_span!(
            "request",
            request_id = id.to_str().unwrap_or_default(),
            method = method.as_str(),
            route = route.unwrap_or("unmatched"),
        );
        // Routing runs here, synchronously; the handler runs when the future is polled.
        let inner = catch_unwind(AssertUnwindSafe(|| self.inner.call(request)));
        ObserveFuture {
            inner: inner.ok(),
            span,
            done: Some(Done {
                start,
                id,
                method,
                route,
                challenge: self.challenge.0.clone(),
            }),
        }
    }
}

/// What the response needs once the inner service has answered.
struct Done {
    start: Instant,
    id: HeaderValue,
    method: Method,
    route: Option<&'static str>,
    challenge: HeaderValue,
}

/// The response future of [`Observe`].
pub struct ObserveFuture<F> {
    /// `None` when calling the inner service panicked.
    inner: Option<F>,
    span: Span,
    done: Option<Done>,
}

impl<F: Future<Output = Result<Response, Infallible>> + Unpin> Future for ObserveFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        // One enter per poll: the handler and the access line run inside the request's span.
        let _entered = this.span.enter();
        let Some(done) = this.done.take() else {
            // Polled again after it answered: a caller's bug. Answer without polling the
            // finished handler again.
            let error = ApiError::Internal("observe: polled after completion".into());
            return Poll::Ready(Ok(error.into_response()));
        };
        let response = match this.inner.as_mut() {
            Some(inner) => match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
                Ok(Poll::Pending) => {
                    this.done = Some(done);
                    return Poll::Pending;
                }
                Ok(Poll::Ready(Ok(response))) => response,
                Err(_) => panicked(),
            },
            None => panicked(),
        };
        this.inner = None;
        Poll::Ready(Ok(done.finish(response)))
    }
}

/// A request cancelled mid-flight (the client went away) drops its handler inside the request's
/// span, so whatever that logs still carries the request id.
impl<F> Drop for ObserveFuture<F> {
    fn drop(&mut self) {
        if self.inner.is_some() {
            let _entered = self.span.enter();
            self.inner = None;
        }
    }
}

/// The 500 of a handler that panicked, logged in the request's span.
fn panicked() -> Response {
    tracing::error!("a request handler panicked");
    ApiError::Internal("handler panicked".into()).into_response()
}

impl Done {
    fn finish(self, mut response: Response) -> Response {
        let elapsed = self.start.elapsed();
        let status = response.status().as_u16();
        tracing::info!(
            target: "access",
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
        if crate::metrics::recording() {
            let labels = [
                ("method", self.method.as_str().to_owned()),
                ("route", self.route.unwrap_or("unmatched").to_owned()),
                ("status", status.to_string()),
            ];
            metrics::counter!("tessera_http_requests_total", &labels).increment(1);
            metrics::histogram!("tessera_http_request_duration_seconds", &labels)
                .record(elapsed.as_secs_f64());
        }
        let headers = response.headers_mut();
        if let Some(route) = self.route {
            headers.insert(
                header::ALLOW,
                HeaderValue::from_static(crate::routes::allow_for(route)),
            );
        }
        if status == StatusCode::UNAUTHORIZED.as_u16()
            && !headers.contains_key(header::WWW_AUTHENTICATE)
        {
            headers.insert(header::WWW_AUTHENTICATE, self.challenge);
        }
        headers.insert(X_REQUEST_ID, self.id);
        response
    }
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

    /// A handler that panics answers a JSON 500 with the headers of every answer, instead of a
    /// dropped connection; the next request is served as usual.
    #[tokio::test]
    async fn a_panicking_handler_is_a_500() {
        use axum::routing::get;
        async fn buggy() -> &'static str {
            panic!("handler bug")
        }
        let router = axum::Router::new()
            .route("/api/me/", get(buggy))
            .route("/healthz", get(|| async { "ok" }));
        let mut service = Observe::new(router, Challenge::new("Bearer"));
        let get = |path: &str| {
            Request::builder()
                .uri(path)
                .header(&X_REQUEST_ID, "req-1")
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let Ok(response) = service.call(get("/api/me/")).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[header::ALLOW], "GET, HEAD, OPTIONS");
        assert_eq!(response.headers()[&X_REQUEST_ID], "req-1");
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(body["detail"].is_string(), "{body}");
        let mut future = service.call(get("/healthz"));
        let Ok(response) = std::future::poll_fn(|cx| Pin::new(&mut future).poll(cx)).await;
        assert_eq!(response.status(), StatusCode::OK);
        // Polled again after answering: a 500, not a panic of the finished handler.
        let Ok(again) = std::future::poll_fn(|cx| Pin::new(&mut future).poll(cx)).await;
        assert_eq!(again.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

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
