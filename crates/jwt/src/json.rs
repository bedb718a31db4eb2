//! A strict, allocation-light JSON object scanner for JOSE headers, payloads and JWKs.
//!
//! `serde_json` silently keeps the last of duplicate member names, but RFC 7515 §4 and
//! RFC 7519 §4 require rejecting them (or using the lexically last, which lets two parsers
//! disagree about a token: RFC 8725 §2.5). This scanner runs once over the decoded bytes and:
//! - checks the whole input is exactly one JSON object (RFC 8259 grammar, UTF-8);
//! - rejects duplicate member names in every object at every level, comparing decoded names so
//!   `"a"` and `"\u0061"` collide;
//! - stops at a maximum nesting depth before going deeper, so work is bounded by the input size
//!   (which the caller has already bounded) and never by recursion;
//! - returns the top-level members as raw value slices, so registered claims can be read
//!   without building a `serde_json::Value` tree.

use std::borrow::Cow;

use crate::error::Error;

/// Default maximum nesting depth of a header or payload; the top-level object is depth 1.
pub(crate) const DEFAULT_MAX_DEPTH: usize = 32;

/// One top-level member: its decoded name and its raw JSON value.
pub(crate) struct Member<'a> {
    pub(crate) name: Cow<'a, [u8]>,
    pub(crate) value: &'a [u8],
}

/// The top-level members of a validated JSON object, in document order.
pub(crate) struct Object<'a> {
    pub(crate) members: Vec<Member<'a>>,
}

impl<'a> Object<'a> {
    /// The raw JSON value of the member `name`, if present.
    pub(crate) fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.members
            .iter()
            .find(|m| m.name.as_ref() == name.as_bytes())
            .map(|m| m.value)
    }
}

/// Validates `input` as one strict JSON object and returns its top-level members.
pub(crate) fn parse_object(input: &[u8], max_depth: usize) -> Result<Object<'_>, Error> {
    // One pass of UTF-8 validation up front lets the scanner work on bytes (RFC 8259 §8.1).
    if std::str::from_utf8(input).is_err() {
        return Err(Error::malformed("JSON is not UTF-8"));
    }
    let mut sc = Scanner {
        s: input,
        pos: 0,
        max_depth: max_depth.max(1),
        names: Vec::new(),
    };
    sc.ws();
    if sc.peek() != Some(b'{') {
        return Err(Error::malformed("JSON is not an object"));
    }
    sc.pos += 1;
    let mut members: Vec<Member<'_>> = Vec::with_capacity(8);
    sc.ws();
    if sc.peek() == Some(b'}') {
        sc.pos += 1;
    } else {
        loop {
            sc.ws();
            let name = sc.name()?;
            if members.iter().any(|m| m.name == name) {
                return Err(Error::malformed("duplicate member name"));
            }
            sc.ws();
            sc.expect(b':')?;
            sc.ws();
            let start = sc.pos;
            sc.value(1)?;
            members.push(Member {
                name,
                value: &input[start..sc.pos],
            });
            sc.ws();
            match sc.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err(Error::malformed("invalid JSON object")),
            }
        }
    }
    sc.ws();
    if sc.pos != input.len() {
        return Err(Error::malformed("trailing data after JSON object"));
    }
    Ok(Object { members })
}

/// Whether a raw JSON value is a string (without decoding it).
pub(crate) fn is_string(value: &[u8]) -> bool {
    value.first() == Some(&b'"')
}

/// Decodes a raw JSON string value; `None` if the value is not a string.
pub(crate) fn as_str(value: &[u8]) -> Option<Cow<'_, str>> {
    if !is_string(value) || value.len() < 2 {
        return None;
    }
    let inner = &value[1..value.len() - 1];
    if !inner.contains(&b'\\') {
        // Already validated as UTF-8 and free of escapes by the scanner.
        return std::str::from_utf8(inner).ok().map(Cow::Borrowed);
    }
    serde_json::from_slice::<String>(value).ok().map(Cow::Owned)
}

struct Scanner<'a> {
    s: &'a [u8],
    pos: usize,
    max_depth: usize,
    /// Member names of every object currently open below the top level, one frame per object.
    names: Vec<Cow<'a, [u8]>>,
}

impl<'a> Scanner<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), Error> {
        if self.next() == Some(byte) {
            Ok(())
        } else {
            Err(Error::malformed("invalid JSON"))
        }
    }

    /// `depth` is the depth of the container holding this value.
    fn value(&mut self, depth: usize) -> Result<(), Error> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(|_| ()),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => Err(Error::malformed("invalid JSON value")),
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), Error> {
        if depth > self.max_depth {
            Err(Error::malformed("JSON nested too deeply"))
        } else {
            Ok(())
        }
    }

    fn object(&mut self, depth: usize) -> Result<(), Error> {
        self.check_depth(depth)?;
        self.pos += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        let frame = self.names.len();
        loop {
            self.ws();
            let name = self.name()?;
            if self.names[frame..].contains(&name) {
                return Err(Error::malformed("duplicate member name"));
            }
            self.names.push(name);
            self.ws();
            self.expect(b':')?;
            self.ws();
            self.value(depth)?;
            self.ws();
            match self.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err(Error::malformed("invalid JSON object")),
            }
        }
        self.names.truncate(frame);
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<(), Error> {
        self.check_depth(depth)?;
        self.pos += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.ws();
            self.value(depth)?;
            self.ws();
            match self.next() {
                Some(b',') => continue,
                Some(b']') => return Ok(()),
                _ => return Err(Error::malformed("invalid JSON array")),
            }
        }
    }

    /// A member name, decoded when it contains escapes so equal names compare equal.
    fn name(&mut self) -> Result<Cow<'a, [u8]>, Error> {
        if self.peek() != Some(b'"') {
            return Err(Error::malformed("invalid JSON member name"));
        }
        let start = self.pos;
        let escaped = self.string()?;
        let raw = &self.s[start..self.pos];
        if escaped {
            let decoded: String = serde_json::from_slice(raw)
                .map_err(|_| Error::malformed("invalid JSON string escape"))?;
            Ok(Cow::Owned(decoded.into_bytes()))
        } else {
            Ok(Cow::Borrowed(&raw[1..raw.len() - 1]))
        }
    }

    /// Skips a string starting at the opening quote; returns whether it contains escapes.
    fn string(&mut self) -> Result<bool, Error> {
        self.pos += 1;
        let mut escaped = false;
        loop {
            // Skip plain characters in one tight loop; stop at a quote, backslash or control.
            let rest = &self.s[self.pos..];
            let plain = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .ok_or_else(|| Error::malformed("unterminated JSON string"))?;
            self.pos += plain;
            match self.next() {
                Some(b'"') => return Ok(escaped),
                Some(b'\\') => {
                    escaped = true;
                    match self.next() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                        Some(b'u') => {
                            for _ in 0..4 {
                                match self.next() {
                                    Some(b) if b.is_ascii_hexdigit() => {}
                                    _ => return Err(Error::malformed("invalid JSON escape")),
                                }
                            }
                        }
                        _ => return Err(Error::malformed("invalid JSON escape")),
                    }
                }
                _ => return Err(Error::malformed("control character in JSON string")),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<(), Error> {
        let bad = || Error::malformed("invalid JSON number");
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(bad()),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(bad());
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(bad());
            }
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Error::malformed("invalid JSON literal"))
        }
    }
}
