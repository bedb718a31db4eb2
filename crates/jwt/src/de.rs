//! Claims deserialized from the members the strict scanner already found.
//!
//! [`json::parse_object`] has checked the payload's grammar, UTF-8, depth and duplicate names,
//! and knows where every top-level member's name and value start and end. Handing the whole
//! payload to `serde_json` afterwards would parse it a second time; instead the caller's type
//! is fed from those slices: plain strings, non-negative integers and literals go to the
//! visitor directly, and anything else (escaped strings, negative or fractional numbers,
//! arrays, nested objects, `RawValue`) is handed, one value at a time, to `serde_json`, so the
//! result is the one `serde_json::from_slice` would give for the same payload.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde::forward_to_deserialize_any;

use crate::error::Error;
use crate::json::{Member, Object};

/// Deserializes `C` from the top-level members of `payload`, as scanned into `object`.
pub(crate) fn from_object<C: DeserializeOwned>(
    payload: &[u8],
    object: &Object<'_>,
) -> Result<C, Error> {
    from_object_seed(payload, object, std::marker::PhantomData::<C>)
}

/// As [`from_object`], through a [`DeserializeSeed`] (state the claims type needs, such as
/// claim names chosen at run time).
pub(crate) fn from_object_seed<'de, S: DeserializeSeed<'de>>(
    payload: &'de [u8],
    object: &Object<'de>,
    seed: S,
) -> Result<S::Value, Error> {
    seed.deserialize(Top { payload, object })
        .map_err(|_| Error::malformed("claims do not fit the expected type"))
}

/// Why the claims did not fit the caller's type. The detail is dropped: the caller reports one
/// message, and a visitor's message may quote claim values.
#[derive(Debug)]
pub(crate) struct Mismatch;

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("claims do not fit the expected type")
    }
}

impl std::error::Error for Mismatch {}

impl de::Error for Mismatch {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Mismatch
    }
}

fn via_json(_: serde_json::Error) -> Mismatch {
    Mismatch
}

/// `serde_json` over one raw value (or the whole payload): the exact fallback.
fn json(raw: &[u8]) -> serde_json::Deserializer<serde_json::de::SliceRead<'_>> {
    serde_json::Deserializer::from_slice(raw)
}

/// Deserializer methods handed to `serde_json` over the raw JSON in `self.$raw`: the protocols
/// only it implements (`RawValue`, enums, bytes, 128-bit integers) stay exactly its own.
macro_rules! via_serde_json {
    ($raw:tt; $($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Mismatch> {
            de::Deserializer::$method(&mut json(self.$raw), $($arg,)* visitor).map_err(via_json)
        }
    )*};
}

/// The payload as a whole: a map of its members.
struct Top<'o, 'de> {
    payload: &'de [u8],
    object: &'o Object<'de>,
}

impl<'de> de::Deserializer<'de> for Top<'_, 'de> {
    type Error = Mismatch;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_map(Members {
            object: self.object,
            members: self.object.members().iter(),
            value: None,
        })
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_some(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_unit()
    }

    via_serde_json! { payload;
        deserialize_newtype_struct(name: &'static str);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

/// The members in document order.
struct Members<'o, 'de> {
    object: &'o Object<'de>,
    members: std::slice::Iter<'o, Member<'de>>,
    value: Option<&'de [u8]>,
}

impl<'de> MapAccess<'de> for Members<'_, 'de> {
    type Error = Mismatch;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Mismatch> {
        let Some(member) = self.members.next() else {
            return Ok(None);
        };
        self.value = Some(member.value);
        // Names were checked as UTF-8 by the scanner; escaped ones are decoded once there.
        let key = match member.plain_name() {
            Some(name) => Key::Borrowed(std::str::from_utf8(name).map_err(|_| Mismatch)?),
            None => {
                Key::Decoded(std::str::from_utf8(self.object.name(member)).map_err(|_| Mismatch)?)
            }
        };
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Mismatch> {
        let raw = self.value.take().ok_or(Mismatch)?;
        seed.deserialize(Value(raw))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.members.len())
    }
}

/// A member name: borrowed from the payload, or decoded (it had escapes).
enum Key<'o, 'de> {
    Borrowed(&'de str),
    Decoded(&'o str),
}

impl<'de> de::Deserializer<'de> for Key<'_, 'de> {
    type Error = Mismatch;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        match self {
            Key::Borrowed(name) => visitor.visit_borrowed_str(name),
            Key::Decoded(name) => visitor.visit_str(name),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// One member's raw JSON value, already validated.
struct Value<'de>(&'de [u8]);

/// A plain non-negative integer (what every NumericDate and most ids are), if `raw` is one
/// that fits in a `u64`: at most 19 digits, so the sum cannot overflow.
pub(crate) fn small_uint(raw: &[u8]) -> Option<u64> {
    if raw.is_empty() || raw.len() > 19 || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        raw.iter()
            .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0')),
    )
}

impl<'de> de::Deserializer<'de> for Value<'de> {
    type Error = Mismatch;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        let raw = self.0;
        match raw {
            [b'"', inner @ .., b'"'] if !inner.contains(&b'\\') => {
                visitor.visit_borrowed_str(std::str::from_utf8(inner).map_err(|_| Mismatch)?)
            }
            b"true" => visitor.visit_bool(true),
            b"false" => visitor.visit_bool(false),
            b"null" => visitor.visit_unit(),
            _ => match small_uint(raw) {
                Some(n) => visitor.visit_u64(n),
                None => {
                    de::Deserializer::deserialize_any(&mut json(raw), visitor).map_err(via_json)
                }
            },
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        if self.0 == b"null" {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_unit()
    }

    via_serde_json! { 0;
        deserialize_newtype_struct(name: &'static str);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_i128();
        deserialize_u128();
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string unit unit_struct seq tuple
        tuple_struct map struct identifier
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::value::RawValue;

    use super::*;
    use crate::json::{DEFAULT_MAX_DEPTH, parse_object};

    fn ours<C: DeserializeOwned>(json: &str) -> Result<C, Error> {
        let object = parse_object(json.as_bytes(), DEFAULT_MAX_DEPTH)?;
        from_object(json.as_bytes(), &object)
    }

    fn same<C: DeserializeOwned + PartialEq + fmt::Debug>(json: &str) {
        let theirs = serde_json::from_str::<C>(json);
        match (ours::<C>(json), theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{json}"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{json}: ours {a:?}, serde_json {b:?}"),
        }
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Access {
        token_type: String,
        exp: u64,
        iat: f64,
        jti: String,
        user_id: String,
        #[serde(default)]
        aud: Option<Vec<String>>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        a: i32,
        b: Option<bool>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Flattened {
        sub: String,
        #[serde(flatten)]
        rest: BTreeMap<String, serde_json::Value>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    enum Role {
        Admin,
        User { level: u8 },
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Nested {
        role: Role,
        tags: Vec<String>,
        id: u128,
        small: u8,
        neg: i64,
        ch: char,
        unit: (),
        pair: (u8, String),
    }

    /// Every shape of claims type, and every JSON value shape, gives what `serde_json` gives.
    #[test]
    fn agrees_with_serde_json() {
        same::<Access>(
            r#"{"token_type":"access","exp":1700000000,"iat":1699999999.5,"jti":"abc","user_id":"7"}"#,
        );
        same::<Access>(
            r#"{"token_type":"a\u0063cess","exp":1,"iat":2,"jti":"\"q\"","user_id":"\u00e9","aud":["x","y"]}"#,
        );
        same::<Access>(r#"{"\u0074oken_type":"access","exp":1,"iat":2,"jti":"j","user_id":"1"}"#);
        same::<Access>(r#"{"token_type":"access","exp":-1,"iat":2,"jti":"j","user_id":"1"}"#);
        same::<Access>(r#"{"token_type":"access","exp":1.5,"iat":2,"jti":"j","user_id":"1"}"#);
        same::<Access>(
            r#"{"token_type":"access","exp":99999999999999999999,"iat":2,"jti":"j","user_id":"1"}"#,
        );
        same::<Access>(r#"{"token_type":1,"exp":1,"iat":2,"jti":"j","user_id":"1"}"#);
        same::<Access>(r#"{"exp":1,"iat":2,"jti":"j","user_id":"1"}"#);
        same::<Access>(r#"{"token_type":"a","exp":1,"iat":2,"jti":"j","user_id":"1","aud":null}"#);
        same::<Strict>(r#"{"a":-5,"b":null}"#);
        same::<Strict>(r#"{"a":5,"c":1}"#);
        same::<Strict>(r#"{"a":5000000000}"#);
        same::<Flattened>(r#"{"sub":"s","x":[1,{"y":null}],"z":-0.5e3,"w":"\n"}"#);
        same::<Nested>(
            r#"{"role":{"User":{"level":3}},"tags":["a","\u00e9"],"id":340282366920938463463374607431768211455,"small":255,"neg":-9223372036854775808,"ch":"x","unit":null,"pair":[1,"p"]}"#,
        );
        same::<Nested>(
            r#"{"role":"Admin","tags":[],"id":1,"small":256,"neg":0,"ch":"x","unit":null,"pair":[1,"p"]}"#,
        );
        same::<serde_json::Value>(
            r#"{"a":true,"b":false,"c":null,"d":0,"e":"","f":{},"g":[],"h":18446744073709551615}"#,
        );
        same::<serde_json::Map<String, serde_json::Value>>(r#"{"\u00e9":1,"\ud83d\ude00":2}"#);
        same::<BTreeMap<String, i64>>(r#"{"a":1,"b":-2}"#);
        same::<Option<BTreeMap<String, i64>>>(r#"{"a":1}"#);
        same::<Vec<u8>>(r#"{"a":1}"#);
        same::<String>(r#"{"a":1}"#);
    }

    /// `RawValue` (a `serde_json` protocol) works inside claims and as the whole payload.
    #[test]
    fn raw_values() {
        #[derive(Deserialize)]
        struct WithRaw {
            ctx: Box<RawValue>,
        }
        let claims: WithRaw = ours(r#"{"ctx":{"a":[1, 2]}}"#).unwrap();
        assert_eq!(claims.ctx.get(), r#"{"a":[1, 2]}"#);
        let whole: Box<RawValue> = ours(r#"{"x":1}"#).unwrap();
        assert_eq!(whole.get(), r#"{"x":1}"#);
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            (-1e9f64..1e9).prop_map(serde_json::Value::from),
            "[a-z\"\\\\\n\u{e9}\u{1F600}]{0,8}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                prop::collection::btree_map("\\PC{0,6}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any object, through `serde_json::Value`: the same tree as `serde_json` builds.
        #[test]
        fn any_object_round_trips(
            // Quotes, backslashes and newlines are written escaped: the fallback paths.
            members in prop::collection::btree_map("[a-z\"\\\\\n\u{e9}]{0,6}", json_value(), 0..6),
        ) {
            let object = serde_json::Value::Object(members.into_iter().collect());
            let text = serde_json::to_string(&object).unwrap();
            let parsed: serde_json::Value = ours(&text).unwrap();
            prop_assert_eq!(parsed, serde_json::from_str::<serde_json::Value>(&text).unwrap());
        }
    }
}
