//! Logging setup. Audit events use the tracing target `audit` (login, reuse detection, logout,
//! logout-all, user changes), one line per request uses the target `access` (`observe.rs`);
//! secrets are never fields of any event.

use std::cell::RefCell;
use std::fmt;
use std::io::IsTerminal as _;

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::fmt::FormattedFields;
use tracing_subscriber::fmt::format::{FormatFields, Writer};
use tracing_subscriber::layer::{Layer, SubscriberExt as _};
use tracing_subscriber::registry::Registry;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::LogFormat;

/// Installs a human-readable subscriber writing to stderr, filtered by `filter`
/// (env-filter syntax, e.g. `info` or `tessera_server=debug,audit=info`).
/// Does nothing if a subscriber is already installed.
pub fn init(filter: &str) {
    init_with_format(filter, LogFormat::Pretty);
}

/// As [`init`], in the given format. `json` writes one object per line with the event's fields
/// at the top level and the fields of its spans, outermost first, under `spans` (the first is
/// `request`: request id, method, route);
/// `auto` is `pretty` when stderr is a terminal and `json` otherwise (journald, files).
pub fn init_with_format(filter: &str, format: LogFormat) {
    let terminal = std::io::stderr().is_terminal();
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Auto => !terminal,
        _ => false,
    };
    let output = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let output: Box<dyn Layer<Registry> + Send + Sync> = if json {
        Box::new(
            output
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(true)
                .fmt_fields(CompactJsonFields),
        )
    } else {
        // Colour only on a terminal: log files and journald get plain text.
        Box::new(output.with_ansi(terminal))
    };
    let (targets, dynamic) = parse_filter(filter);
    let _ = tracing_subscriber::registry()
        .with(output)
        .with(targets)
        .with(dynamic)
        .try_init();
}

/// The filter in one of two forms. Directives by target and level only (`info`,
/// `info,access=off`, `tessera_server=debug`) become a static [`Targets`] filter, decided per
/// callsite. Directives that name spans or fields (`[request]=debug`, `[{route}]=trace`) need
/// [`EnvFilter`], which also tracks every span as it is created, entered, left and closed: on
/// shared maps behind locks, several per request, whether or not any directive names a span.
/// `Targets` is used only where it means what `EnvFilter` means: for a filter `EnvFilter`
/// accepts, whose directives (empty ones dropped, as `EnvFilter` drops them) each name a level.
/// An invalid filter is `info`.
fn parse_filter(filter: &str) -> (Option<Targets>, Option<EnvFilter>) {
    let Ok(dynamic) = EnvFilter::try_new(filter) else {
        return (
            Some(Targets::new().with_default(tracing::Level::INFO)),
            None,
        );
    };
    let directives: Vec<&str> = filter
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    let plain = |d: &&str| {
        !d.contains(['[', '{']) && d.split_once('=').is_none_or(|(_, level)| !level.is_empty())
    };
    if !directives.is_empty()
        && directives.iter().all(plain)
        && let Ok(targets) = directives.join(",").parse::<Targets>()
    {
        return (Some(targets), None);
    }
    (None, Some(dynamic))
}

/// Span fields as one compact JSON object, written directly.
///
/// The JSON event format keeps each span's fields as JSON text and parses it when an event is
/// written. `tracing_subscriber`'s own `JsonFields` builds a map of `serde_json` values and
/// serializes it for every span created — for the per-request span, about 5 % of the CPU of a
/// token check (`bench/RESULTS.md`). This writes the same object text straight into the buffer.
struct CompactJsonFields;

impl<'writer> FormatFields<'writer> for CompactJsonFields {
    /// `tracing_subscriber` hands an empty `String` for every new span; written piece by piece
    /// it would be regrown several times per request. The object is written into this thread's
    /// scratch buffer instead and copied once, at its final size.
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        thread_local! {
            static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
        }
        let buffered = SCRATCH.try_with(|scratch| {
            let mut text = scratch.try_borrow_mut().ok()?;
            text.clear();
            let mut visitor = JsonObject::new(&mut *text);
            fields.record(&mut visitor);
            let result = visitor.finish().and_then(|()| writer.write_str(&text));
            // A rare huge field must not stay allocated with the thread.
            if text.capacity() > 4096 {
                *text = String::new();
            }
            Some(result)
        });
        match buffered {
            Ok(Some(result)) => result,
            // Re-entered (a field's `Debug` logged something), or the thread is exiting: write
            // directly.
            _ => {
                let mut visitor = JsonObject::new(&mut writer);
                fields.record(&mut visitor);
                visitor.finish()
            }
        }
    }

    /// Fields recorded later (`Span::record`) go into the same object; a field recorded twice
    /// appears twice, and the later value wins when the text is parsed.
    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let mut text = std::mem::take(&mut current.fields);
        // Reopen the object: drop its closing brace.
        let reopened = text.ends_with('}') && text.pop().is_some();
        let first = !reopened || text.ends_with('{');
        let mut visitor = JsonObject {
            out: &mut text,
            first,
            result: Ok(()),
        };
        if !reopened {
            visitor.result = visitor.out.write_char('{');
        }
        fields.record(&mut visitor);
        let result = visitor.finish();
        current.fields = text;
        result
    }
}

/// Writes `{"name":value,...}`: strings escaped as JSON, numbers and booleans as themselves,
/// anything else as the string of its `Debug` form (as `JsonFields` does).
struct JsonObject<'a> {
    out: &'a mut dyn fmt::Write,
    first: bool,
    result: fmt::Result,
}

impl<'a> JsonObject<'a> {
    fn new(out: &'a mut dyn fmt::Write) -> JsonObject<'a> {
        let result = out.write_char('{');
        JsonObject {
            out,
            first: true,
            result,
        }
    }

    fn key(&mut self, field: &Field) -> fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.out.write_char(',')?;
        }
        write_json_str(self.out, field.name())?;
        self.out.write_char(':')
    }

    fn entry(&mut self, field: &Field, value: impl FnOnce(&mut dyn fmt::Write) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self.key(field).and_then(|()| value(self.out));
        }
    }

    fn finish(self) -> fmt::Result {
        self.result?;
        self.out.write_char('}')
    }
}

impl Visit for JsonObject<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.entry(field, |out| write_json_str(out, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.entry(field, |out| write!(out, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.entry(field, |out| write!(out, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.entry(field, |out| write!(out, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.entry(field, |out| write!(out, "{value}"));
        } else {
            // JSON has no NaN or infinities: as `serde_json`, write null.
            self.entry(field, |out| out.write_str("null"));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        self.entry(field, |out| write_json_str(out, &text));
    }
}

/// A JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
fn write_json_str(out: &mut dyn fmt::Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    let mut plain = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if c < ' ' => "",
            _ => continue,
        };
        out.write_str(&s[plain..i])?;
        if escape.is_empty() {
            write!(out, "\\u{:04x}", u32::from(c))?;
        } else {
            out.write_str(escape)?;
        }
        plain = i + c.len_utf8();
    }
    out.write_str(&s[plain..])?;
    out.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_target_and_level_are_static() {
        for plain in [
            "info",
            "info,access=off",
            "tessera_server=debug,audit=info",
            "warn",
        ] {
            let (targets, dynamic) = parse_filter(plain);
            assert!(targets.is_some() && dynamic.is_none(), "{plain}");
        }
        let (targets, _) = parse_filter("info,access=off");
        let targets = targets.unwrap();
        assert!(targets.would_enable("tessera_server::routes", &tracing::Level::INFO));
        assert!(!targets.would_enable("tessera_server::routes", &tracing::Level::DEBUG));
        assert!(!targets.would_enable("access", &tracing::Level::INFO));
        assert!(targets.would_enable("audit", &tracing::Level::INFO));
        for spans in ["[request]=debug", "info,[request{route=/api/me/}]=trace"] {
            let (targets, dynamic) = parse_filter(spans);
            assert!(targets.is_none() && dynamic.is_some(), "{spans}");
        }
        // What `EnvFilter` would make of these, `Targets` would read differently (an empty
        // directive as "errors only", `access=` as "errors only"): they stay with `EnvFilter`,
        // or lose their empty directives.
        let (targets, dynamic) = parse_filter("info,");
        let targets = targets.expect("static");
        assert!(dynamic.is_none());
        assert!(targets.would_enable("audit", &tracing::Level::INFO));
        let (targets, _) = parse_filter("info,,access=off");
        let targets = targets.expect("static");
        assert!(targets.would_enable("audit", &tracing::Level::INFO));
        assert!(!targets.would_enable("access", &tracing::Level::INFO));
        let (targets, dynamic) = parse_filter("info,access=");
        assert!(targets.is_none() && dynamic.is_some());
        // Not a filter at all: `info`.
        let (targets, dynamic) = parse_filter("info,=[=");
        assert!(dynamic.is_none());
        let targets = targets.unwrap();
        assert!(targets.would_enable("anything", &tracing::Level::INFO));
        assert!(!targets.would_enable("anything", &tracing::Level::DEBUG));
    }

    #[test]
    fn strings_are_valid_json() {
        for s in [
            "",
            "plain",
            "a\"b\\c",
            "line\nbreak\ttab\r",
            "\u{1}\u{1f}",
            "caf\u{e9} \u{1F600}",
        ] {
            let mut out = String::new();
            write_json_str(&mut out, s).unwrap();
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s, "{out}");
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }
}
