//! The `<SourceInfo>` presence extension: a JSON object that current Jitsi
//! Meet clients put in every MUC presence to say which of their sources are
//! muted, e.g. `{"ab12-a0":{"muted":true},"ab12-v0":{"muted":false,"videoType":"camera"}}`.
//!
//! The focus only needs two bits from it (is any audio source unmuted, is
//! any video source unmuted), so instead of a JSON library this is a small
//! scanner that walks the text once, borrows every string it can and keeps
//! nothing. It accepts and rejects what Jicofo's Jackson-based parser does
//! where that matters for the answer:
//!
//! * the text must start with an object whose values are all objects
//!   (anything else: malformed);
//! * `muted` is read as Jackson's `asBoolean()` does: `true`, a string that
//!   trims to `"true"`, or a non-zero number are true; `false`, `null`, other
//!   strings, arrays and objects are false; an absent `muted` means muted;
//! * `videoType` must be absent, `null`, or `"camera"`/`"desktop"` in any
//!   case (anything else: malformed, as Jicofo throws on it);
//! * the media type is `mediaType` when it is the string `audio` or `video`
//!   (any case), otherwise the character after the first `-` of the source
//!   name (`a` audio, `v` video), otherwise unknown;
//! * text after the top-level object is ignored (Jackson's default).
//!
//! Malformed input gives `None`, never a panic: nesting is capped at
//! [`MAX_DEPTH`] and every index is checked.

use std::borrow::Cow;

/// Deepest nesting accepted, counting the top-level object as 1. Real
/// SourceInfo is 2 deep; the cap keeps hostile input from exhausting the
/// stack.
const MAX_DEPTH: u8 = 16;

/// What the focus learns from one `<SourceInfo>`: whether every audio
/// (video) source is muted. Sources of unknown media type count for neither;
/// a member with no audio (video) source counts as muted, as in Jicofo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceMutes {
    /// No audio source is unmuted.
    pub audio_muted: bool,
    /// No video source is unmuted.
    pub video_muted: bool,
}

/// Reads a `<SourceInfo>` text; `None` when it is not the JSON shape Jicofo
/// accepts (Jicofo then ignores the whole extension and keeps the member's
/// previous mute state).
pub fn parse_source_info(json: &str) -> Option<SourceMutes> {
    let mut s = Scanner {
        b: json.as_bytes(),
        src: json,
        i: 0,
    };
    let mut mutes = SourceMutes {
        audio_muted: true,
        video_muted: true,
    };
    s.ws();
    s.expect(b'{')?;
    s.ws();
    if s.eat(b'}') {
        return Some(mutes);
    }
    loop {
        s.ws();
        let name = s.string()?;
        s.ws();
        s.expect(b':')?;
        s.ws();
        let (muted, media) = s.source(&name)?;
        if !muted {
            match media {
                Some(Media::Audio) => mutes.audio_muted = false,
                Some(Media::Video) => mutes.video_muted = false,
                None => {}
            }
        }
        s.ws();
        if s.eat(b',') {
            continue;
        }
        s.expect(b'}')?;
        return Some(mutes);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    Audio,
    Video,
}

/// Jicofo's fallback when `mediaType` is not given: `abcd-a0` is audio,
/// `abcd-v1` video.
fn media_from_name(name: &str) -> Option<Media> {
    let dash = name.find('-')?;
    match name.as_bytes().get(dash + 1)? {
        b'a' => Some(Media::Audio),
        b'v' => Some(Media::Video),
        _ => None,
    }
}

/// A scalar as far as `muted`, `videoType` and `mediaType` care.
enum Value<'s> {
    Bool(bool),
    Null,
    Str(Cow<'s, str>),
    /// A number: whether any digit of its integer or fraction part is not 0.
    Num(bool),
    /// An object or array (skipped).
    Compound,
}

struct Scanner<'s> {
    b: &'s [u8],
    src: &'s str,
    i: usize,
}

impl<'s> Scanner<'s> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        self.eat(c).then_some(())
    }

    /// One source's object: `(muted, media type)`.
    fn source(&mut self, name: &str) -> Option<(bool, Option<Media>)> {
        self.expect(b'{')?;
        // Jicofo: an absent `muted` means muted.
        let mut muted = true;
        // `Some(x)` once `mediaType` was seen: the last one wins, and a
        // non-string or unknown one falls back to the name.
        let mut media_field: Option<Option<Media>> = None;
        self.ws();
        if !self.eat(b'}') {
            loop {
                self.ws();
                let key = self.string()?;
                self.ws();
                self.expect(b':')?;
                self.ws();
                let v = self.value(2)?;
                match &*key {
                    "muted" => muted = as_boolean(&v),
                    "videoType" => match &v {
                        Value::Null => {}
                        Value::Str(t)
                            if t.eq_ignore_ascii_case("camera")
                                || t.eq_ignore_ascii_case("desktop") => {}
                        _ => return None,
                    },
                    "mediaType" => {
                        media_field = Some(match &v {
                            Value::Str(t) if t.eq_ignore_ascii_case("audio") => Some(Media::Audio),
                            Value::Str(t) if t.eq_ignore_ascii_case("video") => Some(Media::Video),
                            _ => None,
                        });
                    }
                    _ => {}
                }
                self.ws();
                if self.eat(b',') {
                    continue;
                }
                self.expect(b'}')?;
                break;
            }
        }
        let media = media_field.flatten().or_else(|| media_from_name(name));
        Some((muted, media))
    }

    /// Any value at nesting `depth` (the depth of the object holding it).
    /// Objects and arrays are validated and skipped.
    fn value(&mut self, depth: u8) -> Option<Value<'s>> {
        match self.peek()? {
            b'"' => self.string().map(Value::Str),
            b'{' | b'[' => {
                self.skip_compound(depth + 1)?;
                Some(Value::Compound)
            }
            b't' => self.literal(b"true").map(|_| Value::Bool(true)),
            b'f' => self.literal(b"false").map(|_| Value::Bool(false)),
            b'n' => self.literal(b"null").map(|_| Value::Null),
            b'-' | b'0'..=b'9' => self.number().map(Value::Num),
            _ => None,
        }
    }

    fn literal(&mut self, lit: &[u8]) -> Option<()> {
        let end = self.i.checked_add(lit.len())?;
        if self.b.get(self.i..end)? == lit {
            self.i = end;
            Some(())
        } else {
            None
        }
    }

    /// RFC 8259 number; returns whether its mantissa is non-zero.
    fn number(&mut self) -> Option<bool> {
        self.eat(b'-');
        let mut nonzero = false;
        let digits = |s: &mut Self, nz: &mut bool| {
            let start = s.i;
            while let Some(c @ b'0'..=b'9') = s.peek() {
                *nz |= c != b'0';
                s.i += 1;
            }
            s.i > start
        };
        if self.peek() == Some(b'0') {
            self.i += 1;
        } else if !digits(self, &mut nonzero) {
            return None;
        }
        if self.eat(b'.') && !digits(self, &mut nonzero) {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            let mut ignored = false;
            if !digits(self, &mut ignored) {
                return None;
            }
        }
        Some(nonzero)
    }

    /// An object or array at nesting `depth`, skipped after checking its
    /// syntax.
    fn skip_compound(&mut self, depth: u8) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (is_object, close) = match self.peek()? {
            b'{' => (true, b'}'),
            b'[' => (false, b']'),
            _ => return None,
        };
        self.i += 1;
        self.ws();
        if self.eat(close) {
            return Some(());
        }
        loop {
            self.ws();
            if is_object {
                self.string()?;
                self.ws();
                self.expect(b':')?;
                self.ws();
            }
            self.value(depth)?;
            self.ws();
            if self.eat(b',') {
                continue;
            }
            return self.expect(close);
        }
    }

    /// A string at the cursor (which must be at `"`), unescaped; borrowed
    /// unless it holds an escape.
    fn string(&mut self) -> Option<Cow<'s, str>> {
        self.expect(b'"')?;
        let start = self.i;
        // Fast path: no escape before the closing quote.
        loop {
            match self.peek()? {
                b'"' => {
                    let s = self.src.get(start..self.i)?;
                    self.i += 1;
                    return Some(Cow::Borrowed(s));
                }
                b'\\' => break,
                // Jackson rejects raw control characters in strings.
                c if c < 0x20 => return None,
                _ => self.i += 1,
            }
        }
        let mut out = String::from(self.src.get(start..self.i)?);
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    self.i += 1;
                    let esc = self.peek()?;
                    self.i += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape()?),
                        _ => return None,
                    }
                }
                c if c < 0x20 => return None,
                _ => {
                    // Copy the run up to the next quote or backslash; the
                    // run ends on an ASCII byte, so it is a char boundary.
                    let run_start = self.i;
                    while matches!(self.peek(), Some(c) if c != b'"' && c != b'\\' && c >= 0x20) {
                        self.i += 1;
                    }
                    out.push_str(self.src.get(run_start..self.i)?);
                }
            }
        }
    }

    /// The four hex digits after `\u` (the cursor is on the first), joined
    /// with a following low surrogate when they are a high one. A lone
    /// surrogate becomes U+FFFD: odd, but not worth rejecting a presence
    /// over.
    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) && self.b.get(self.i..self.i + 2) == Some(b"\\u") {
            let save = self.i;
            self.i += 2;
            let lo = self.hex4()?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return Some(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            // Not a pair: read the second escape on its own next time.
            self.i = save;
        }
        Some(char::from_u32(hi).unwrap_or('\u{FFFD}'))
    }

    fn hex4(&mut self) -> Option<u32> {
        let end = self.i.checked_add(4)?;
        let digits = self.src.get(self.i..end)?;
        let v = u32::from_str_radix(digits, 16).ok()?;
        // from_str_radix accepts a leading '+'; JSON does not.
        if digits.starts_with('+') {
            return None;
        }
        self.i = end;
        Some(v)
    }
}

/// Jackson's `JsonNode.asBoolean()` for the values `muted` may hold.
fn as_boolean(v: &Value<'_>) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Str(s) => s.trim() == "true",
        Value::Num(nonzero) => *nonzero,
        Value::Null | Value::Compound => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mutes(audio_muted: bool, video_muted: bool) -> Option<SourceMutes> {
        Some(SourceMutes {
            audio_muted,
            video_muted,
        })
    }

    #[test]
    fn the_shape_jitsi_meet_sends() {
        assert_eq!(
            parse_source_info(
                r#"{"ab12-a0":{"muted":true},"ab12-v0":{"muted":false,"videoType":"camera"}}"#
            ),
            mutes(true, false)
        );
        assert_eq!(
            parse_source_info(r#"{"ab12-a0":{"muted":false},"ab12-v0":{"muted":true}}"#),
            mutes(false, true)
        );
        assert_eq!(parse_source_info("{}"), mutes(true, true));
    }

    #[test]
    fn whitespace_everywhere() {
        let json = " \n{ \"x-a0\" :\t{ \"muted\" : false } ,\r\n \"x-v0\" : { } } \n";
        assert_eq!(parse_source_info(json), mutes(false, true));
    }

    #[test]
    fn unknown_keys_and_nested_values_are_skipped() {
        let json = r#"{"x-a0":{"extra":[1,{"a":[true,null,"s"]},-2.5e+3],"muted":false,
            "o":{"p":{}}},"x-v0":{"muted":false,"videoType":"DESKTOP","n":0}}"#;
        assert_eq!(parse_source_info(json), mutes(false, false));
    }

    #[test]
    fn any_unmuted_source_of_a_kind_unmutes_it() {
        let json =
            r#"{"x-v0":{"muted":true},"x-v1":{"muted":false},"x-a0":{},"x-a1":{"muted":true}}"#;
        assert_eq!(parse_source_info(json), mutes(true, false));
    }

    #[test]
    fn media_type_field_wins_over_the_name() {
        // Named like video, declared audio (Jicofo's own test case).
        assert_eq!(
            parse_source_info(r#"{"x-v3":{"mediaType":"audio","muted":false}}"#),
            mutes(false, true)
        );
        assert_eq!(
            parse_source_info(r#"{"abc0":{"mediaType":"VIDEO","muted":false}}"#),
            mutes(true, false)
        );
        // Not a string, or unknown: back to the name.
        assert_eq!(
            parse_source_info(r#"{"x-a0":{"mediaType":5,"muted":false}}"#),
            mutes(false, true)
        );
        // No dash, nothing after it, or another letter: unknown, counts for neither.
        for name in ["abc0", "abc-", "abc-d0"] {
            let json = format!(r#"{{"{name}":{{"muted":false}}}}"#);
            assert_eq!(parse_source_info(&json), mutes(true, true), "{name}");
        }
        // The first dash decides.
        assert_eq!(
            parse_source_info(r#"{"a-v-a0":{"muted":false}}"#),
            mutes(true, false)
        );
    }

    #[test]
    fn muted_is_read_like_jackson_as_boolean() {
        let cases = [
            ("false", false),
            ("true", true),
            ("null", false),
            (r#"" true ""#, true),
            (r#""yes""#, false),
            ("0", false),
            ("1", true),
            ("-0.0", false),
            ("0.5", true),
            ("[]", false),
            ("{}", false),
        ];
        for (v, want_muted) in cases {
            let json = format!(r#"{{"x-a0":{{"muted":{v}}}}}"#);
            assert_eq!(
                parse_source_info(&json),
                mutes(want_muted, true),
                "muted: {v}"
            );
        }
        // The last duplicate wins.
        assert_eq!(
            parse_source_info(r#"{"x-a0":{"muted":false,"muted":true}}"#),
            mutes(true, true)
        );
    }

    #[test]
    fn escapes_in_keys_and_values() {
        // "mut\u0065d" is "muted"; the name's escapes decode too.
        let json = r#"{"x\u002da0":{"mut\u0065d":false,"note":"a\"b\\c\/\n\ud83d\ude00"}}"#;
        assert_eq!(parse_source_info(json), mutes(false, true));
        // A lone surrogate is tolerated.
        assert_eq!(
            parse_source_info(r#"{"x-a0":{"n":"\ud800x","muted":false}}"#),
            mutes(false, true)
        );
    }

    #[test]
    fn malformed_is_none() {
        for bad in [
            "",
            "   ",
            "{",
            "[]",
            "null",
            "\"x\"",
            r#"{"x-a0":true}"#,
            r#"{"x-a0":{"muted":false}"#,
            r#"{"x-a0":{"muted":false},}"#,
            r#"{"x-a0":{"muted":false}]"#,
            r#"{"x-a0" {"muted":false}}"#,
            r#"{x-a0:{}}"#,
            r#"{"x-a0":{"muted":tru}}"#,
            r#"{"x-a0":{"muted":01}}"#,
            r#"{"x-a0":{"muted":1.}}"#,
            r#"{"x-a0":{"muted":1e}}"#,
            r#"{"x-a0":{"muted":-}}"#,
            r#"{"x-a0":{"n":"\x"}}"#,
            r#"{"x-a0":{"n":"\u12"}}"#,
            r#"{"x-a0":{"n":"\u+123"}}"#,
            "{\"x-a0\":{\"n\":\"a\tb\"}}",
            r#"{"x-v0":{"videoType":5}}"#,
            r#"{"x-v0":{"videoType":"x"}}"#,
            r#"{"x-v0":{"videoType":{}}}"#,
            r#"{"x-a0":{"n":[1,2}}"#,
            r#"{"x-a0":{"n":"unterminated}}"#,
        ] {
            assert_eq!(parse_source_info(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn video_type_null_is_accepted() {
        assert_eq!(
            parse_source_info(r#"{"x-v0":{"videoType":null,"muted":false}}"#),
            mutes(true, false)
        );
    }

    #[test]
    fn trailing_text_is_ignored_like_jackson() {
        assert_eq!(
            parse_source_info(r#"{"x-a0":{"muted":false}} trailing"#),
            mutes(false, true)
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!(
            r#"{{"x-a0":{{"n":{}{}}}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(parse_source_info(&deep), None);
        // Within the cap it is fine: 1 (top) + 1 (source) + 14 arrays.
        let ok = format!(
            r#"{{"x-a0":{{"muted":false,"n":{}{}}}}}"#,
            "[".repeat(14),
            "]".repeat(14)
        );
        assert_eq!(parse_source_info(&ok), mutes(false, true));
        let over = format!(
            r#"{{"x-a0":{{"muted":false,"n":{}{}}}}}"#,
            "[".repeat(15),
            "]".repeat(15)
        );
        assert_eq!(parse_source_info(&over), None);
    }

    #[test]
    fn every_prefix_and_byte_flip_is_safe() {
        let json = r#"{"ab-a0":{"muted":true,"x":[1,-2.5e3,"\u00e9\n"]},"ab-v0":{"muted":false,"videoType":"camera"}}"#;
        for end in 0..=json.len() {
            if let Some(p) = json.get(..end) {
                let r = parse_source_info(p);
                assert!(end == json.len() || r.is_none(), "{p}");
            }
        }
        let bytes = json.as_bytes();
        for i in 0..bytes.len() {
            for b in [
                b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b'u', b'0', 0xC3,
            ] {
                let mut m = bytes.to_vec();
                m[i] = b;
                if let Ok(s) = std::str::from_utf8(&m) {
                    let _ = parse_source_info(s);
                }
            }
        }
    }
}
