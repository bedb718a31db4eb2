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

/// How many top-level members are kept on the stack; more spill to the heap. Access tokens
/// have 5 to 7 members (simplejwt: `token_type`, `exp`, `iat`, `jti`, `user_id`, optional `aud`,
/// `iss`), so the normal path allocates nothing.
const INLINE_MEMBERS: usize = 10;

/// Most members one object may have. Duplicate detection compares each new name with the
/// earlier ones of its object, so this bounds that work per object (RFC 8725 §3.x: bound the
/// work an unauthenticated header can cause). Real headers have 2-4 members, claim sets tens.
const MAX_MEMBERS: usize = 256;

/// One top-level member: its raw name (with quotes) and its raw JSON value.
#[derive(Clone, Copy, Default)]
pub(crate) struct Member<'a> {
    /// The name as written, quotes included.
    raw_name: &'a [u8],
    /// For a name with escapes: the index of its decoded form in [`Object::decoded`], so each
    /// name is decoded once, not once per comparison.
    decoded: Option<u32>,
    pub(crate) value: &'a [u8],
}

impl<'a> Member<'a> {
    /// The name between its quotes, as written.
    fn inner_name(&self) -> &'a [u8] {
        &self.raw_name[1..self.raw_name.len() - 1]
    }

    /// The name borrowed from the input when it has no escapes (then it is its decoded form).
    pub(crate) fn plain_name(&self) -> Option<&'a [u8]> {
        self.decoded.is_none().then(|| self.inner_name())
    }
}

/// Decodes an escaped member name (the rare path; it allocates).
fn decode_name(raw: &[u8]) -> Result<Vec<u8>, Error> {
    serde_json::from_slice::<String>(raw)
        .map(String::into_bytes)
        .map_err(|_| Error::malformed("invalid JSON string escape"))
}

/// The raw values of the registered claims Tessera validates (RFC 7519 §4.1), picked out
/// while the object is scanned so validation needs no lookups by name.
#[derive(Clone, Copy, Default)]
pub(crate) struct Registered<'a> {
    pub(crate) exp: Option<&'a [u8]>,
    pub(crate) nbf: Option<&'a [u8]>,
    pub(crate) iat: Option<&'a [u8]>,
    pub(crate) aud: Option<&'a [u8]>,
    pub(crate) iss: Option<&'a [u8]>,
    pub(crate) sub: Option<&'a [u8]>,
}

impl<'a> Registered<'a> {
    fn record(&mut self, name: &[u8], value: &'a [u8]) {
        let slot = match name {
            b"exp" => &mut self.exp,
            b"nbf" => &mut self.nbf,
            b"iat" => &mut self.iat,
            b"aud" => &mut self.aud,
            b"iss" => &mut self.iss,
            b"sub" => &mut self.sub,
            _ => return,
        };
        *slot = Some(value);
    }
}

/// The top-level members of a validated JSON object, in document order: on the stack while
/// there are at most [`INLINE_MEMBERS`], else all of them in `spill`.
pub(crate) struct Object<'a> {
    inline: [Member<'a>; INLINE_MEMBERS],
    len: usize,
    spill: Vec<Member<'a>>,
    /// Decoded forms of the names that contain escapes (empty, unallocated, on the normal path).
    decoded: Vec<Vec<u8>>,
    pub(crate) registered: Registered<'a>,
}

impl<'a> Object<'a> {
    pub(crate) fn members(&self) -> &[Member<'a>] {
        if self.len <= INLINE_MEMBERS {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }

    fn push(&mut self, member: Member<'a>) {
        if self.len < INLINE_MEMBERS {
            self.inline[self.len] = member;
        } else {
            if self.len == INLINE_MEMBERS {
                self.spill.extend_from_slice(&self.inline);
            }
            self.spill.push(member);
        }
        self.len += 1;
    }

    /// A member's name, decoded: so `"a"` and `"\u0061"` are the same name.
    pub(crate) fn name<'s>(&'s self, member: &'s Member<'a>) -> &'s [u8] {
        match member.decoded {
            Some(i) => &self.decoded[i as usize],
            None => member.inner_name(),
        }
    }

    /// The raw JSON value of the member `name`, if present.
    pub(crate) fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.members()
            .iter()
            .find(|m| self.name(m) == name.as_bytes())
            .map(|m| m.value)
    }
}

/// Validates `input` as one strict JSON object and returns its top-level members.
///
/// UTF-8 (RFC 8259 §8.1) is checked inside string literals as they are scanned: outside them
/// only ASCII is grammatical, so no separate pass over the whole input is needed.
pub(crate) fn parse_object(input: &[u8], max_depth: usize) -> Result<Object<'_>, Error> {
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
    let mut object = Object {
        inline: [Member::default(); INLINE_MEMBERS],
        len: 0,
        spill: Vec::new(),
        decoded: Vec::new(),
        registered: Registered::default(),
    };
    sc.ws();
    if sc.peek() == Some(b'}') {
        sc.pos += 1;
    } else {
        loop {
            sc.ws();
            if sc.peek() != Some(b'"') {
                return Err(Error::malformed("invalid JSON member name"));
            }
            if object.len >= MAX_MEMBERS {
                return Err(Error::malformed("too many JSON object members"));
            }
            let start = sc.pos;
            let escaped = sc.string()?;
            let raw_name = &input[start..sc.pos];
            let decoded = if escaped {
                object.decoded.push(decode_name(raw_name)?);
                // At most MAX_MEMBERS entries, so the index fits.
                Some((object.decoded.len() - 1) as u32)
            } else {
                None
            };
            let mut member = Member {
                raw_name,
                decoded,
                value: &[],
            };
            let name = object.name(&member);
            if object.members().iter().any(|m| object.name(m) == name) {
                return Err(Error::malformed("duplicate member name"));
            }
            sc.ws();
            sc.expect(b':')?;
            sc.ws();
            let start = sc.pos;
            sc.value(1)?;
            member.value = &input[start..sc.pos];
            let name = match member.decoded {
                Some(i) => &object.decoded[i as usize][..],
                None => member.inner_name(),
            };
            object.registered.record(name, member.value);
            object.push(member);
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
    Ok(object)
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

/// The length of the leading run of plain string characters in `s`: everything but `"`, `\\`,
/// controls (which must be escaped, RFC 8259 §7) and non-ASCII (checked as UTF-8 by the caller).
///
/// Eight bytes at a time: for each condition a word has the high bit of a byte set where the
/// condition may hold; the lowest such bit of each word is exact (borrows only run upwards),
/// so the lowest over all of them is the first byte that stops the run.
fn plain_len(s: &[u8]) -> usize {
    const LO: u64 = u64::from_ne_bytes([0x01; 8]);
    const HI: u64 = u64::from_ne_bytes([0x80; 8]);
    // High bit set in each byte of `w` that is less than `n` (for n <= 0x80).
    let below = |w: u64, n: u8| w.wrapping_sub(LO * u64::from(n)) & !w & HI;
    let mut chunks = s.chunks_exact(8);
    let mut done = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let stop = below(w, 0x20)
            | below(w ^ (LO * u64::from(b'"')), 1)
            | below(w ^ (LO * u64::from(b'\\')), 1)
            | (w & HI);
        if stop != 0 {
            return done + (stop.trailing_zeros() / 8) as usize;
        }
        done += 8;
    }
    let rest = chunks.remainder();
    done + rest
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\' || b >= 0x80)
        .unwrap_or(rest.len())
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
            if self.names.len() - frame >= MAX_MEMBERS {
                return Err(Error::malformed("too many JSON object members"));
            }
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
            Ok(Cow::Owned(decode_name(raw)?))
        } else {
            Ok(Cow::Borrowed(&raw[1..raw.len() - 1]))
        }
    }

    /// Skips a string starting at the opening quote, checking its escapes and its UTF-8;
    /// returns whether it contains escapes.
    fn string(&mut self) -> Result<bool, Error> {
        self.pos += 1;
        let mut escaped = false;
        loop {
            // Skip plain ASCII; stop at a quote, backslash, control character or non-ASCII.
            self.pos += plain_len(&self.s[self.pos..]);
            if self.pos == self.s.len() {
                return Err(Error::malformed("unterminated JSON string"));
            }
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
                Some(0x80..=0xff) => {
                    // A run of non-ASCII bytes ends at an ASCII byte, which is always a
                    // character boundary, so the run alone must be valid UTF-8.
                    let run = &self.s[self.pos - 1..];
                    let len = run.iter().position(u8::is_ascii).unwrap_or(run.len());
                    if std::str::from_utf8(&run[..len]).is_err() {
                        return Err(Error::malformed("JSON is not UTF-8"));
                    }
                    self.pos += len - 1;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(json: &[u8]) -> bool {
        parse_object(json, DEFAULT_MAX_DEPTH).is_ok()
    }

    /// UTF-8 is checked inside strings (names and values, at any depth), since the scanner
    /// no longer validates the whole input first.
    #[test]
    fn utf8_inside_strings() {
        assert!(ok(
            "{\"n\u{e9}\":\"\u{1F600}x\u{e9}\",\"a\":[\"\u{20AC}\"]}".as_bytes()
        ));
        for bad in [
            &b"{\"a\":\"\xff\"}"[..],
            b"{\"\xc3\":1}",                  // truncated two-byte sequence
            b"{\"a\":\"\xc0\xaf\"}",          // overlong '/'
            b"{\"a\":\"\xed\xa0\x80\"}",      // UTF-16 surrogate
            b"{\"a\":{\"b\":\"x\xe2\x82\"}}", // truncated, nested
            b"{\"a\":\"\xe2\x82",             // truncated at the end of input
            b"{\"a\":1}\xc3\xa9",             // non-ASCII outside a string
        ] {
            assert!(!ok(bad), "{bad:?}");
        }
    }

    /// Duplicates are found past the inline member table too, escaped or not.
    #[test]
    fn duplicates_beyond_the_inline_table() {
        let mut json = String::from("{");
        for i in 0..INLINE_MEMBERS + 4 {
            json.push_str(&format!("\"m{i}\":{i},"));
        }
        let unique = format!("{json}\"last\":0}}");
        let obj = parse_object(unique.as_bytes(), DEFAULT_MAX_DEPTH).unwrap();
        let past = INLINE_MEMBERS + 2;
        assert_eq!(
            obj.get(&format!("m{past}")),
            Some(past.to_string().as_bytes())
        );
        assert_eq!(obj.get("last"), Some(&b"0"[..]));
        assert!(!ok(format!("{json}\"m{past}\":0}}").as_bytes()));
        assert!(!ok(format!("{json}\"m\\u0031\":0}}").as_bytes()));
        assert!(!ok(format!("{json}\"\\u006d3\":0}}").as_bytes()));
        assert!(!ok(br#"{"\u0061":1,"a":2}"#));
        assert!(!ok(br#"{"\u0061":1,"\u0061":2}"#));
        assert!(ok(br#"{"\u0061":1,"b":2}"#));
    }

    /// Registered claims are picked out by their decoded names, like `get` finds them.
    /// An object may have at most MAX_MEMBERS members, at the top level and nested, so a
    /// header full of (escaped) names costs bounded work before any signature check.
    #[test]
    fn member_count_is_bounded() {
        let members = |n: usize, escaped: bool| {
            let names: Vec<String> = (0..n)
                .map(|i| {
                    if escaped {
                        format!("\"\\u0061{i}\":0")
                    } else {
                        format!("\"a{i}\":0")
                    }
                })
                .collect();
            format!("{{{}}}", names.join(","))
        };
        for escaped in [false, true] {
            assert!(ok(members(MAX_MEMBERS, escaped).as_bytes()));
            assert!(!ok(members(MAX_MEMBERS + 1, escaped).as_bytes()));
            let nested = |n| format!("{{\"x\":{}}}", members(n, escaped));
            assert!(ok(nested(MAX_MEMBERS).as_bytes()));
            assert!(!ok(nested(MAX_MEMBERS + 1).as_bytes()));
        }
        // Escaped duplicates are still found among many escaped names.
        let mut dup = members(MAX_MEMBERS - 1, true);
        dup.insert_str(dup.len() - 1, ",\"a7\":1");
        assert!(!ok(dup.as_bytes()));
    }

    #[test]
    fn registered_claims_by_decoded_name() {
        let obj = parse_object(br#"{"\u0065xp":5,"iat":1.5,"x":{"nbf":1}}"#, 32).unwrap();
        assert_eq!(obj.registered.exp, Some(&b"5"[..]));
        assert_eq!(obj.registered.iat, Some(&b"1.5"[..]));
        assert_eq!(obj.registered.nbf, None);
        assert_eq!(obj.get("exp"), Some(&b"5"[..]));
    }

    /// The word-at-a-time scan stops exactly where a byte-at-a-time scan does.
    #[test]
    fn plain_len_matches_bytewise() {
        let stops = [b'"', b'\\', 0x00, 0x1f, 0x80, 0xff, 0xc3];
        let plain = [b' ', b'a', 0x7f, 0x21, 0x5b, 0x5d, 0x20, b'~'];
        for len in 0..20 {
            for at in 0..=len {
                for &stop in &stops {
                    for &fill in &plain {
                        let mut s = vec![fill; len];
                        if at < len {
                            s[at] = stop;
                            // Bytes after the stop must not matter.
                            for b in &mut s[at + 1..] {
                                *b = b'"';
                            }
                        }
                        assert_eq!(plain_len(&s), at, "{s:?}");
                    }
                }
            }
        }
    }
}
