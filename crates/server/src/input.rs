//! Our request-body extractor: JSON or form-encoded, answered in DRF's error format.
//!
//! axum's `Json` rejects with plain-text bodies; DRF answers malformed JSON, arrays and unknown
//! media types with JSON (reference §2.2). [`Input`] reproduces that: it reads at most
//! `max_body_size` bytes (413 beyond), accepts `application/json` and
//! `application/x-www-form-urlencoded` and `multipart/form-data`, treats an empty body as an empty object (so missing fields
//! are reported per field) and answers anything else with 415.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::{Map, Value};

use crate::error::{ApiError, FIELD_BLANK, FIELD_NOT_STRING, FIELD_NULL, FIELD_REQUIRED};
use crate::state::AppState;

/// How long a client may take to send its (small) body.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A request body decoded to a JSON object.
#[derive(Debug, Default)]
pub struct Input(pub Map<String, Value>);

impl FromRequest<AppState> for Input {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.settings.max_body_size;
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        // Refuse early when the client announces a body that is too large.
        if let Some(len) = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && len > limit as u64
        {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        let body: Body = req.into_body();
        // A client that trickles its body must not hold a connection and a task forever.
        let bytes = tokio::time::timeout(BODY_READ_TIMEOUT, axum::body::to_bytes(body, limit))
            .await
            .map_err(|_| ApiError::RequestTimeout)?
            .map_err(|_| ApiError::PayloadTooLarge(limit))?;
        if let Some(ct) = content_type.as_deref()
            && media_type(ct) == "multipart/form-data"
            && !bytes.iter().all(u8::is_ascii_whitespace)
        {
            return parse_multipart(ct, &bytes).await.map(Input);
        }
        parse_body(content_type.as_deref(), &bytes).map(Input)
    }
}

fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// `multipart/form-data` (RFC 7578): text parts become string fields (the last one wins, as
/// Django's `QueryDict`); file parts (with a filename) are not form fields and are skipped.
///
/// Errors are Django's `MultiPartParser`'s, which DRF answers with
/// `{"detail":"Multipart form parse error - …"}`: a missing or invalid boundary, or a part whose
/// headers do not end within 1024 bytes. Any other damage yields the fields read before it
/// (usually none, so the answer is the per-field "required" errors, exactly as simplejwt's).
pub async fn parse_multipart(
    content_type: &str,
    bytes: &[u8],
) -> Result<Map<String, Value>, ApiError> {
    let parse_error =
        |msg: String| ApiError::ParseDetail(format!("Multipart form parse error - {msg}"));
    let boundary = django_boundary(content_type).map_err(parse_error)?;
    if django_header_limit_exceeded(bytes, boundary.as_bytes()) {
        return Err(parse_error(
            "Request max total header size exceeded.".to_owned(),
        ));
    }
    let mut multipart = multer::Multipart::with_reader(bytes, boundary);
    let mut map = Map::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        if field.file_name().is_some() {
            continue;
        }
        match field.text().await {
            Ok(text) => {
                map.insert(name, Value::String(text));
            }
            Err(_) => break,
        }
    }
    Ok(map)
}

/// The `boundary` parameter, validated as Django does (`[ -~]{0,200}[!-~]`).
fn django_boundary(content_type: &str) -> Result<String, String> {
    let boundary = content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim().eq_ignore_ascii_case("boundary").then(|| {
            let value = value.trim();
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value)
                .to_owned()
        })
    });
    match boundary {
        Some(b)
            if (1..=201).contains(&b.len())
                && b.bytes().all(|c| (b' '..=b'~').contains(&c))
                && !b.ends_with(' ') =>
        {
            Ok(b)
        }
        Some(b) => Err(format!("Invalid boundary in multipart: {b}")),
        None => Err("Invalid boundary in multipart: None".to_owned()),
    }
}

/// Django reads at most 1024 bytes looking for the end of a part's headers: a part (or the
/// preamble) at least that long without `\r\n\r\n` in its first 1024 bytes is an error there.
fn django_header_limit_exceeded(body: &[u8], boundary: &[u8]) -> bool {
    const MAX_TOTAL_HEADER_SIZE: usize = 1024;
    let mut separator = b"--".to_vec();
    separator.extend_from_slice(boundary);
    let mut rest = body;
    loop {
        let (segment, next) = match find(rest, &separator) {
            Some(i) => {
                // Django backs up over the CRLF before a boundary.
                let mut end = i;
                if end > 0 && rest[end - 1] == b'\n' {
                    end -= 1;
                }
                if end > 0 && rest[end - 1] == b'\r' {
                    end -= 1;
                }
                (&rest[..end], Some(&rest[i + separator.len()..]))
            }
            None => (rest, None),
        };
        if segment.len() >= MAX_TOTAL_HEADER_SIZE
            && find(&segment[..MAX_TOTAL_HEADER_SIZE], b"\r\n\r\n").is_none()
        {
            return true;
        }
        match next {
            Some(n) => rest = n,
            None => return false,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Decodes `bytes` according to `content_type` (see the module documentation).
pub fn parse_body(
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let media_type = content_type.map(media_type).unwrap_or_default();
    match media_type.as_str() {
        "application/json" => {
            let value: Value =
                serde_json::from_slice(bytes).map_err(|e| ApiError::Parse(e.to_string()))?;
            match value {
                Value::Object(map) => Ok(map),
                // DRF's serializer sees `None` as "no data" rather than a wrong type.
                Value::Null => Err(ApiError::NonField("No data provided".to_owned())),
                other => Err(ApiError::NonField(format!(
                    "Invalid data. Expected a dictionary, but got {}.",
                    python_type_name(&other)
                ))),
            }
        }
        "application/x-www-form-urlencoded" => {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(bytes).map_err(|e| ApiError::Parse(e.to_string()))?;
            // Django's QueryDict returns the last value of a repeated key.
            let mut map = Map::new();
            for (k, v) in pairs {
                map.insert(k, Value::String(v));
            }
            Ok(map)
        }
        _ => Err(ApiError::UnsupportedMediaType(
            content_type.unwrap_or_default().to_owned(),
        )),
    }
}

/// The name DRF's message uses for the type of a JSON value (Python's type names).
fn python_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Reads a DRF `CharField`: required, not null, not blank, strings and numbers accepted
/// (numbers are coerced to their text), lists, objects and booleans refused.
pub fn char_field(
    map: &Map<String, Value>,
    name: &str,
    trim: bool,
) -> Result<String, &'static str> {
    let text = match map.get(name) {
        None => return Err(FIELD_REQUIRED),
        Some(Value::Null) => return Err(FIELD_NULL),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(FIELD_NOT_STRING),
    };
    let text = if trim { text.trim().to_owned() } else { text };
    if text.is_empty() {
        return Err(FIELD_BLANK);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_body_is_an_empty_object_whatever_the_type() {
        assert!(parse_body(None, b"").unwrap().is_empty());
        assert!(parse_body(Some("text/plain"), b"  ").unwrap().is_empty());
    }

    #[test]
    fn json_with_charset_and_form_bodies_parse() {
        let m = parse_body(Some("application/json; charset=utf-8"), br#"{"a":"b"}"#).unwrap();
        assert_eq!(m["a"], "b");
        let m = parse_body(
            Some("application/x-www-form-urlencoded"),
            b"username=al%20ice&password=x&password=y",
        )
        .unwrap();
        assert_eq!(m["username"], "al ice");
        assert_eq!(m["password"], "y");
    }

    #[test]
    fn non_objects_and_unknown_types_are_refused() {
        assert!(matches!(
            parse_body(Some("application/json"), b"[1]"),
            Err(ApiError::NonField(m)) if m == "Invalid data. Expected a dictionary, but got list."
        ));
        assert!(matches!(
            parse_body(Some("application/json"), b"{"),
            Err(ApiError::Parse(_))
        ));
        assert!(matches!(
            parse_body(Some("text/plain"), b"hi"),
            Err(ApiError::UnsupportedMediaType(t)) if t == "text/plain"
        ));
    }

    #[test]
    fn char_field_follows_drf() {
        let m = json!({"s":"  x ","n":12,"f":1.5,"b":true,"l":["x"],"o":{},"z":null,"e":"  "});
        let m = m.as_object().unwrap();
        assert_eq!(char_field(m, "s", true).unwrap(), "x");
        assert_eq!(char_field(m, "s", false).unwrap(), "  x ");
        assert_eq!(char_field(m, "n", true).unwrap(), "12");
        assert_eq!(char_field(m, "f", true).unwrap(), "1.5");
        assert_eq!(char_field(m, "b", true), Err(FIELD_NOT_STRING));
        assert_eq!(char_field(m, "l", true), Err(FIELD_NOT_STRING));
        assert_eq!(char_field(m, "o", true), Err(FIELD_NOT_STRING));
        assert_eq!(char_field(m, "z", true), Err(FIELD_NULL));
        assert_eq!(char_field(m, "e", true), Err(FIELD_BLANK));
        assert_eq!(char_field(m, "missing", true), Err(FIELD_REQUIRED));
    }

    #[test]
    fn multipart_boundaries_are_validated_like_django() {
        assert_eq!(
            django_boundary("multipart/form-data; boundary=abc").unwrap(),
            "abc"
        );
        assert_eq!(
            django_boundary("multipart/form-data; Boundary=\"a b\"").unwrap(),
            "a b"
        );
        assert_eq!(
            django_boundary("multipart/form-data").unwrap_err(),
            "Invalid boundary in multipart: None"
        );
        let long = "x".repeat(202);
        for bad in [
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=\"a \"",
        ] {
            assert!(django_boundary(bad).is_err(), "{bad}");
        }
        assert!(django_boundary(&format!("multipart/form-data; boundary={long}")).is_err());
    }

    #[test]
    fn part_headers_over_1024_bytes_are_refused_like_django() {
        let ok = b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b--\r\n";
        assert!(!django_header_limit_exceeded(ok, b"b"));
        let mut long = b"--b\r\nContent-Disposition: form-data; name=\"".to_vec();
        long.extend(std::iter::repeat_n(b'a', 1100));
        long.extend_from_slice(b"\"\r\n\r\nx\r\n--b--\r\n");
        assert!(django_header_limit_exceeded(&long, b"b"));
        // A long value after short headers is fine.
        let mut value = b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n".to_vec();
        value.extend(std::iter::repeat_n(b'v', 3000));
        value.extend_from_slice(b"\r\n--b--\r\n");
        assert!(!django_header_limit_exceeded(&value, b"b"));
    }
}
