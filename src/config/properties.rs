//! Java `.properties` parsing and the typed getters over the resulting
//! key/value pairs.
//!
//! Deployers carry `sip-communicator.properties` files over from the Java
//! Jicofo, so the syntax is Java's (`java.util.Properties.load`), including
//! its less-known corners: `key value` with a space separator, `!` comments,
//! backslash continuation and `\uXXXX` escapes. Values are typed only when read,
//! because the Java program read them lazily too and an unused, malformed key
//! must not stop the focus from starting.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::ConfigError;
use super::keys::is_known_key;

/// All configuration properties: the properties file overlaid by `-Dkey=value`
/// arguments (a later value for the same key replaces an earlier one).
///
/// Keys are kept sorted so that logs and `unknown_keys` are stable. Debug
/// output hides the value of every key that looks like it holds a credential.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Properties {
    map: BTreeMap<String, String>,
}

impl Properties {
    /// An empty set of properties.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the text of a Java `.properties` file. `origin` names the file
    /// in error messages (for example its path).
    pub fn parse(origin: &str, text: &str) -> Result<Self, ConfigError> {
        let mut props = Self::new();
        for (line, logical) in logical_lines(text) {
            let syntax = |problem| ConfigError::PropertiesSyntax {
                origin: origin.to_string(),
                line,
                problem,
            };
            let (raw_key, raw_value) = split_key_value(&logical);
            let key = unescape(raw_key).map_err(syntax)?;
            let value = unescape(raw_value).map_err(syntax)?;
            props.set(key, value);
        }
        Ok(props)
    }

    /// Sets `key` to `value`, replacing any earlier value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.map.insert(key.into(), value.into());
    }

    /// Copies every pair of `other` into `self`; `other` wins on conflicts.
    /// Used to lay `-D` arguments over the file.
    pub fn overlay(&mut self, other: &Properties) {
        for (k, v) in &other.map {
            self.map.insert(k.clone(), v.clone());
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no keys at all.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// All pairs in key order, values exactly as written (not trimmed).
    /// Careful: this exposes credential values; do not log it.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The value of `key` exactly as written, even if blank.
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// The first of `keys` that has a non-blank value, trimmed.
    ///
    /// Callers pass the SEED name first and the CURRENT `jicofo.*` name second,
    /// because Jicofo let the legacy file win over `jicofo.conf`. Blank values
    /// count as absent, as in Jitsi's `ConfigurationService.getString`, which
    /// trimmed and turned "" into null: Debian templates often leave
    /// `KEY=` lines in place.
    pub fn get(&self, keys: &[&str]) -> Option<&str> {
        self.get_with_key(keys).map(|(_, v)| v)
    }

    /// Like [`get`](Self::get) but also returns which key matched, for errors.
    fn get_with_key<'k>(&self, keys: &[&'k str]) -> Option<(&'k str, &str)> {
        keys.iter().find_map(|&k| {
            let v = java_trim(self.map.get(k)?);
            (!v.is_empty()).then_some((k, v))
        })
    }

    /// A boolean: `true` or `false` in any letter case; absent → `default`.
    /// Java's `Boolean.parseBoolean` read every other word as false, silently;
    /// we refuse instead, because `yes` meaning false surprises everybody.
    pub fn bool(&self, keys: &[&str], default: bool) -> Result<bool, ConfigError> {
        let Some((key, v)) = self.get_with_key(keys) else {
            return Ok(default);
        };
        if v.eq_ignore_ascii_case("true") {
            Ok(true)
        } else if v.eq_ignore_ascii_case("false") {
            Ok(false)
        } else {
            Err(bad_value(key, v, "true or false"))
        }
    }

    /// A whole number from 0 to 4294967295; absent → `default`.
    pub fn u32(&self, keys: &[&str], default: u32) -> Result<u32, ConfigError> {
        match self.get_with_key(keys) {
            None => Ok(default),
            Some((key, v)) => v
                .parse()
                .map_err(|_| bad_value(key, v, "a whole number from 0 to 4294967295")),
        }
    }

    /// A whole number from 0 to 18446744073709551615; absent → `default`.
    pub fn u64(&self, keys: &[&str], default: u64) -> Result<u64, ConfigError> {
        match self.get_with_key(keys) {
            None => Ok(default),
            Some((key, v)) => v
                .parse()
                .map_err(|_| bad_value(key, v, "a whole number of 0 or more")),
        }
    }

    /// A finite decimal number such as `0.8`; absent → `default`.
    pub fn f64(&self, keys: &[&str], default: f64) -> Result<f64, ConfigError> {
        let Some((key, v)) = self.get_with_key(keys) else {
            return Ok(default);
        };
        match v.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            _ => Err(bad_value(key, v, "a decimal number such as 0.8")),
        }
    }

    /// A duration of zero or more; absent → `default`.
    ///
    /// A bare number is milliseconds (SEED properties are all in ms, and HOCON
    /// reads a bare number the same way); `jicofo.conf` style values with a
    /// unit are accepted too: `15 s`, `15s`, `500 millis`, `2 minutes`,
    /// `24 hours`, `1 day`, also with a decimal point (`1.5 s`).
    pub fn duration(&self, keys: &[&str], default: Duration) -> Result<Duration, ConfigError> {
        let Some((key, v)) = self.get_with_key(keys) else {
            return Ok(default);
        };
        match parse_duration(v) {
            Ok((false, d)) => Ok(d),
            Ok((true, d)) if d.is_zero() => Ok(d),
            Ok((true, _)) => Err(bad_value(key, v, "a duration of zero or more")),
            Err(expected) => Err(bad_value(key, v, expected)),
        }
    }

    /// A period that can be switched off: like [`duration`](Self::duration),
    /// but zero or a negative value means "disabled" (`None`), which is how the
    /// SEED properties `PING_INTERVAL` and `HEALTH_CHECK_INTERVAL` say it.
    pub fn interval(
        &self,
        keys: &[&str],
        default: Option<Duration>,
    ) -> Result<Option<Duration>, ConfigError> {
        let Some((key, v)) = self.get_with_key(keys) else {
            return Ok(default);
        };
        match parse_duration(v) {
            Ok((negative, d)) if negative || d.is_zero() => Ok(None),
            Ok((_, d)) => Ok(Some(d)),
            Err(expected) => Err(bad_value(key, v, expected)),
        }
    }

    /// Keys that are neither in [`KNOWN_KEYS`](super::KNOWN_KEYS) nor under
    /// one of [`KNOWN_PREFIXES`](super::KNOWN_PREFIXES), in key order. A typo
    /// in a property name would otherwise fail silently.
    pub fn unknown_keys(&self) -> Vec<&str> {
        self.map
            .keys()
            .map(String::as_str)
            .filter(|k| !is_known_key(k))
            .collect()
    }
}

impl fmt::Debug for Properties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (k, v) in &self.map {
            if is_credential_key(k) {
                map.entry(k, &format_args!("***"));
            } else {
                map.entry(k, v);
            }
        }
        map.finish()
    }
}

/// Whether a key's value must never be printed. Matches the focus password,
/// the bridge-MUC user password (`…_USER_PASS`), the keystore password, the
/// recording token, and anything a deployer names similarly.
fn is_credential_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    ["pass", "secret", "token"]
        .iter()
        .any(|w| lower.contains(w))
}

fn bad_value(key: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

/// Java's `String.trim`: strips every char up to U+0020, which is what Jitsi
/// applied to property values before reading them.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// Whitespace as `Properties.load` sees it between and around key and value.
fn is_prop_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c')
}

/// Splits the text into logical lines, each with the 1-based number of the
/// natural line it starts on. Comments and blank lines are dropped here;
/// escapes are left for later because a key/value separator can be escaped.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, natural) in natural_lines(text).enumerate() {
        let stripped = natural.trim_start_matches(is_prop_space);
        let (start, mut acc) = match current.take() {
            Some(pending) => pending,
            None => {
                // A comment is only recognised at the start of a logical line:
                // a `#` on a continuation line is data, as in Java.
                if stripped.is_empty() || stripped.starts_with(['#', '!']) {
                    continue;
                }
                (index + 1, String::new())
            }
        };
        let trailing = stripped.len() - stripped.trim_end_matches('\\').len();
        if trailing % 2 == 1 {
            // An odd run of backslashes escapes the line break itself.
            acc.push_str(&stripped[..stripped.len() - 1]);
            current = Some((start, acc));
        } else {
            acc.push_str(stripped);
            out.push((start, acc));
        }
    }
    // A continuation on the last line of the file just ends the entry.
    if let Some(pending) = current {
        out.push(pending);
    }
    out
}

/// Lines ended by `\n`, `\r\n` or a lone `\r`, as `Properties.load` accepts.
fn natural_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let after = &rest[end..];
        rest = if let Some(r) = after.strip_prefix("\r\n") {
            r
        } else if after.is_empty() {
            after
        } else {
            &after[1..]
        };
        Some(line)
    })
}

/// Splits a logical line (leading whitespace already removed) into its raw
/// key and raw value. The key ends at the first unescaped `=`, `:` or
/// whitespace; one `=`/`:` after whitespace still counts as the separator.
fn split_key_value(line: &str) -> (&str, &str) {
    let mut escaped = false;
    let mut key_end = line.len();
    let mut has_separator = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '=' || c == ':' {
            key_end = i;
            has_separator = true;
            break;
        } else if is_prop_space(c) {
            key_end = i;
            break;
        }
    }
    let key = &line[..key_end];
    let mut rest = &line[key_end..];
    if has_separator {
        rest = &rest[1..];
    }
    rest = rest.trim_start_matches(is_prop_space);
    if !has_separator {
        if let Some(r) = rest.strip_prefix(['=', ':']) {
            rest = r.trim_start_matches(is_prop_space);
        }
    }
    (key, rest)
}

/// Resolves backslash escapes. Unknown escapes drop the backslash (`\=`,
/// `\:`, `\#`, `\ ` all mean the character itself), like Java.
fn unescape(raw: &str) -> Result<String, &'static str> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let unit = hex4(&mut chars)?;
                let code = if (0xD800..0xDC00).contains(&unit) {
                    // Java strings are UTF-16, so characters outside the BMP
                    // arrive as two escapes that we must pair up.
                    let rest = chars.as_str();
                    let low = rest
                        .strip_prefix("\\u")
                        .and_then(|r| u32::from_str_radix(r.get(..4)?, 16).ok())
                        .filter(|l| (0xDC00..0xE000).contains(l))
                        .ok_or("a \\u escape is an unpaired UTF-16 surrogate")?;
                    chars = rest[6..].chars();
                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    unit
                };
                out.push(
                    char::from_u32(code).ok_or("a \\u escape is an unpaired UTF-16 surrogate")?,
                );
            }
            Some(other) => out.push(other),
            // Only reachable through a continuation at end of file.
            None => {}
        }
    }
    Ok(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Result<u32, &'static str> {
    const MALFORMED: &str = "malformed \\uXXXX escape (it needs exactly four hex digits)";
    let mut value = 0;
    for _ in 0..4 {
        let digit = chars.next().and_then(|c| c.to_digit(16)).ok_or(MALFORMED)?;
        value = value * 16 + digit;
    }
    Ok(value)
}

/// Parses a duration; returns whether it was negative and its magnitude, or
/// the phrase describing what was expected.
fn parse_duration(text: &str) -> Result<(bool, Duration), &'static str> {
    const EXPECTED: &str = "a duration such as 15 s, 500 ms or 2 minutes \
                            (a bare number means milliseconds)";
    const TOO_BIG: &str = "a duration this program can represent (it is far too long)";
    let text = text.trim();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let number_end = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(number_end);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty() || frac_part.contains('.') {
        return Err(EXPECTED);
    }
    let nanos_per_unit: u128 = match unit.trim().to_ascii_lowercase().as_str() {
        "ns" | "nano" | "nanos" | "nanosecond" | "nanoseconds" => 1,
        "us" | "micro" | "micros" | "microsecond" | "microseconds" => 1_000,
        "" | "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1_000_000,
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000_000_000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000_000_000,
        "h" | "hour" | "hours" => 3_600_000_000_000,
        "d" | "day" | "days" => 86_400_000_000_000,
        _ => return Err(EXPECTED),
    };
    let whole: u128 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().map_err(|_| TOO_BIG)?
    };
    let mut nanos = whole.checked_mul(nanos_per_unit).ok_or(TOO_BIG)?;
    // Digits past the 18th cannot matter at nanosecond resolution for any of
    // the units above, and capping keeps 10^len inside u128.
    let frac = &frac_part[..frac_part.len().min(18)];
    if !frac.is_empty() {
        let scale = 10u128.pow(frac.len() as u32);
        let digits: u128 = frac.parse().map_err(|_| EXPECTED)?;
        nanos += digits * nanos_per_unit / scale;
    }
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| TOO_BIG)?;
    // The remainder is below 10^9, so it always fits.
    let sub = (nanos % 1_000_000_000) as u32;
    Ok((negative, Duration::new(secs, sub)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Properties {
        Properties::parse("test.properties", text).expect("parses")
    }

    fn one(key: &str, value: &str) -> Properties {
        let mut p = Properties::new();
        p.set(key, value);
        p
    }

    #[test]
    fn separators_equals_colon_and_space() {
        let p = parse("a=1\nb: 2\nc 3\nd   =   4\ne\t:\tfive six\nf==x\n");
        assert_eq!(p.raw("a"), Some("1"));
        assert_eq!(p.raw("b"), Some("2"));
        assert_eq!(p.raw("c"), Some("3"));
        assert_eq!(p.raw("d"), Some("4"));
        assert_eq!(p.raw("e"), Some("five six"));
        // Only the first `=` separates; the second is part of the value.
        assert_eq!(p.raw("f"), Some("=x"));
        assert_eq!(p.len(), 6);
    }

    #[test]
    fn comments_blank_lines_and_leading_whitespace() {
        let p = parse("# comment=1\n! also=2\n\n   \n   indented = yes\n  # not=3\n");
        assert_eq!(p.len(), 1);
        assert_eq!(p.raw("indented"), Some("yes"));
    }

    #[test]
    fn key_without_value_is_empty_and_trailing_space_is_kept() {
        let p = parse("lonely\nspaced = value  \n");
        assert_eq!(p.raw("lonely"), Some(""));
        assert_eq!(p.raw("spaced"), Some("value  "));
        // The typed view trims, as Jitsi did.
        assert_eq!(p.get(&["spaced"]), Some("value"));
        assert_eq!(p.get(&["lonely"]), None);
    }

    #[test]
    fn continuation_lines() {
        let p = parse("list = a,\\\n       b,\\\n  # c\nnext=1\n");
        assert_eq!(p.raw("list"), Some("a,b,# c"));
        assert_eq!(p.raw("next"), Some("1"));
        // An even number of backslashes is an escaped backslash, not a continuation.
        let p = parse("path=C:\\\\\nother=2\n");
        assert_eq!(p.raw("path"), Some("C:\\"));
        assert_eq!(p.raw("other"), Some("2"));
        // A continuation on the last line just ends the entry.
        assert_eq!(parse("x=1\\").raw("x"), Some("1"));
    }

    #[test]
    fn crlf_and_lone_cr_line_endings() {
        let p = parse("a=1\r\nb=2\rc=3");
        assert_eq!(
            (p.raw("a"), p.raw("b"), p.raw("c")),
            (Some("1"), Some("2"), Some("3"))
        );
    }

    #[test]
    fn escapes() {
        let p = parse(
            "tab=a\\tb\nnl=a\\nb\ncr=a\\rb\nback=a\\\\b\neq=a\\=b\ncolon=a\\:b\nother=\\q\n\
             my\\ key\\=x = v\n",
        );
        assert_eq!(p.raw("tab"), Some("a\tb"));
        assert_eq!(p.raw("nl"), Some("a\nb"));
        assert_eq!(p.raw("cr"), Some("a\rb"));
        assert_eq!(p.raw("back"), Some("a\\b"));
        assert_eq!(p.raw("eq"), Some("a=b"));
        assert_eq!(p.raw("colon"), Some("a:b"));
        assert_eq!(p.raw("other"), Some("q"));
        assert_eq!(p.raw("my key=x"), Some("v"));
    }

    #[test]
    fn unicode_escapes() {
        let p = parse("e=caf\\u00e9\nemoji=\\uD83D\\uDE00!\nupper=\\u00C9\n");
        assert_eq!(p.raw("e"), Some("café"));
        assert_eq!(p.raw("emoji"), Some("😀!"));
        assert_eq!(p.raw("upper"), Some("É"));
    }

    #[test]
    fn malformed_unicode_escape_names_file_and_line() {
        let err = Properties::parse("/etc/x.properties", "a=1\n\nb=\\u12G4\n").unwrap_err();
        assert!(
            matches!(err, ConfigError::PropertiesSyntax { line: 3, .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.starts_with("/etc/x.properties line 3: "), "{text}");
        assert!(text.contains("\\uXXXX"), "{text}");
        assert!(Properties::parse("f", "a=\\u12").is_err());
        assert!(Properties::parse("f", "a=\\uD83Dx").is_err());
    }

    #[test]
    fn later_duplicate_wins_and_overlay_wins() {
        let mut p = parse("a=1\na=2\nb=file\n");
        assert_eq!(p.raw("a"), Some("2"));
        p.overlay(&one("b", "override"));
        assert_eq!(p.raw("b"), Some("override"));
        assert_eq!(p.raw("a"), Some("2"));
    }

    #[test]
    fn get_takes_first_present_non_blank_key() {
        let p = parse("legacy=L\ncurrent=C\nblank=  \n");
        assert_eq!(p.get(&["legacy", "current"]), Some("L"));
        assert_eq!(p.get(&["missing", "current"]), Some("C"));
        assert_eq!(p.get(&["blank", "current"]), Some("C"));
        assert_eq!(p.get(&["missing"]), None);
    }

    #[test]
    fn bool_values_and_errors() {
        assert_eq!(one("k", "TRUE").bool(&["k"], false), Ok(true));
        assert_eq!(one("k", " false ").bool(&["k"], true), Ok(false));
        assert_eq!(Properties::new().bool(&["k"], true), Ok(true));
        let err = one("k", "yes").bool(&["k"], false).unwrap_err();
        assert_eq!(err.to_string(), "k: 'yes' is not true or false");
    }

    #[test]
    fn numbers() {
        assert_eq!(one("n", "42").u32(&["n"], 1), Ok(42));
        assert_eq!(Properties::new().u32(&["n"], 7), Ok(7));
        assert!(one("n", "-1").u32(&["n"], 1).is_err());
        assert!(one("n", "4294967296").u32(&["n"], 1).is_err());
        assert_eq!(one("n", "4294967296").u64(&["n"], 1), Ok(4_294_967_296));
        assert!(one("n", "x").u64(&["n"], 1).is_err());
        assert_eq!(one("f", "0.8").f64(&["f"], 0.0), Ok(0.8));
        assert!(one("f", "NaN").f64(&["f"], 0.0).is_err());
        assert!(one("f", "inf").f64(&["f"], 0.0).is_err());
        let err = one("org.jitsi.jicofo.PING_THRESHOLD", "three")
            .u32(&["org.jitsi.jicofo.PING_THRESHOLD"], 3)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("org.jitsi.jicofo.PING_THRESHOLD: 'three'")
        );
    }

    fn dur(text: &str) -> Result<Duration, ConfigError> {
        one("d", text).duration(&["d"], Duration::from_secs(99))
    }

    #[test]
    fn duration_formats() {
        let ms = Duration::from_millis;
        assert_eq!(dur("15000"), Ok(ms(15_000)));
        assert_eq!(dur("15 s"), Ok(ms(15_000)));
        assert_eq!(dur("15s"), Ok(ms(15_000)));
        assert_eq!(dur("15 seconds"), Ok(ms(15_000)));
        assert_eq!(dur("500ms"), Ok(ms(500)));
        assert_eq!(dur("500 millis"), Ok(ms(500)));
        assert_eq!(dur("1 min"), Ok(ms(60_000)));
        assert_eq!(dur("2 minutes"), Ok(ms(120_000)));
        assert_eq!(dur("1 h"), Ok(ms(3_600_000)));
        assert_eq!(dur("24 hours"), Ok(ms(86_400_000)));
        assert_eq!(dur("1 day"), Ok(ms(86_400_000)));
        assert_eq!(dur("1.5 s"), Ok(ms(1_500)));
        assert_eq!(dur(".5s"), Ok(ms(500)));
        assert_eq!(dur("0"), Ok(Duration::ZERO));
        assert_eq!(dur("250 us"), Ok(Duration::from_micros(250)));
        assert_eq!(Properties::new().duration(&["d"], ms(3)), Ok(ms(3)));
    }

    #[test]
    fn duration_errors() {
        for bad in [
            "-5",
            "-1 s",
            "abc",
            "15 fortnights",
            "s",
            "1.2.3 s",
            "1 s s",
        ] {
            let err = dur(bad).unwrap_err();
            assert!(
                matches!(&err, ConfigError::BadValue { key, .. } if key == "d"),
                "{bad}: {err:?}"
            );
        }
        let err = dur("99999999999999999999999 days").unwrap_err();
        assert!(err.to_string().contains("far too long"), "{err}");
        assert!(dur("340282366920938463463374607431768211456").is_err());
    }

    #[test]
    fn interval_zero_or_negative_disables() {
        let p = |v| one("i", v).interval(&["i"], Some(Duration::from_secs(10)));
        assert_eq!(p("0"), Ok(None));
        assert_eq!(p("-1"), Ok(None));
        assert_eq!(p("-1 s"), Ok(None));
        assert_eq!(p("5000"), Ok(Some(Duration::from_secs(5))));
        assert!(p("soon").is_err());
        assert_eq!(
            Properties::new().interval(&["i"], Some(Duration::from_secs(10))),
            Ok(Some(Duration::from_secs(10)))
        );
    }

    #[test]
    fn unknown_keys_lists_only_unknown() {
        let p = parse(
            "org.jitsi.jicofo.PING_INTERVAL=1\n\
             org.jitsi.jicofo.ENABLE_VP9=true\n\
             jicofo.codec.video.vp8.pt=100\n\
             jicofo.xmpp.client.port=5222\n\
             org.jitsi.jicofo.PING_INTERVALL=1\n\
             zzz.custom=1\n",
        );
        assert_eq!(
            p.unknown_keys(),
            vec!["org.jitsi.jicofo.PING_INTERVALL", "zzz.custom"]
        );
    }

    #[test]
    fn debug_hides_credential_values() {
        let p = parse(
            "org.jitsi.jicofo.FOCUS_USER_PASSWORD=hunter2\n\
             org.jitsi.jicofo.BRIDGE_MUC_XMPP_USER_PASS=bridgepw\n\
             org.jitsi.videobridge.MEDIA_RECORDING_TOKEN=tok123\n\
             org.jitsi.jicofo.PING_INTERVAL=1234\n",
        );
        let text = format!("{p:?}");
        for secret in ["hunter2", "bridgepw", "tok123"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("1234"), "{text}");
        assert!(
            text.contains("org.jitsi.jicofo.FOCUS_USER_PASSWORD"),
            "{text}"
        );
    }
}
