//! XMPP addresses (RFC 7622): parsing, validation and the canonical form we
//! compare and route by.
//!
//! A [`Jid`] is one boxed string in canonical form plus two 16-bit offsets
//! that mark where the domainpart starts and ends, so it is 24 bytes, clones
//! with one allocation and hands out its parts as slices.
//!
//! What "canonical" means here, and where it stops short of RFC 7622:
//!
//! * the domainpart is ASCII-lowercased and a trailing label dot is stripped
//!   (RFC 7622 §3.2). We do not run IDNA: a non-ASCII domain is accepted
//!   and kept as received, so two spellings of one internationalised domain
//!   compare unequal. Jitsi deployments use ASCII domains.
//! * the localpart is lowercased for ASCII letters only. The PRECIS
//!   `UsernameCaseMapped` profile (Unicode case folding and NFC) is not
//!   applied to non-ASCII localparts; they are kept as received.
//! * the resourcepart is kept exactly (the `OpaqueString` profile does no
//!   case mapping; we do not normalise it either).
//!
//! Validation is the structural part of RFC 7622 that catches real mistakes
//! and hostile input: part lengths (1023 bytes each), empty parts, the
//! characters a localpart may never hold (`" & ' / : < > @`, whitespace), a
//! domain without whitespace, `@`, `/`, `:` or empty labels (`:` and brackets
//! only in an IPv6 literal `[…]`), and no control characters anywhere.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::net::Ipv6Addr;

/// RFC 7622 §3.1: each part is at most 1023 octets. Three parts and two
/// separators stay below `u16::MAX`, which is why the offsets are `u16`.
const MAX_PART: usize = 1023;

/// Characters RFC 7622 §3.3.1 forbids in a localpart (besides whitespace).
const LOCALPART_FORBIDDEN: &[char] = &['"', '&', '\'', '/', ':', '<', '>', '@'];

/// Why a string is not a valid JID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JidError {
    /// No domainpart (the empty string, `@`, `/r`, or just a dot).
    EmptyDomain,
    /// An `@` with nothing before it.
    EmptyLocalpart,
    /// A `/` with nothing after it.
    EmptyResource,
    /// A localpart longer than 1023 bytes.
    LocalpartTooLong,
    /// A domainpart longer than 1023 bytes.
    DomainTooLong,
    /// A resourcepart longer than 1023 bytes.
    ResourceTooLong,
    /// A character the localpart may not hold.
    BadLocalpart(char),
    /// A character the domainpart may not hold.
    BadDomain(char),
    /// A control character in the resourcepart.
    BadResource(char),
    /// A domain label is empty (`a..b`, `.a`).
    EmptyDomainLabel,
    /// A bracketed domain that is not an IPv6 address.
    BadIpLiteral,
}

impl std::fmt::Display for JidError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JidError::EmptyDomain => f.write_str("the JID has no domain"),
            JidError::EmptyLocalpart => f.write_str("the JID has an empty localpart before '@'"),
            JidError::EmptyResource => f.write_str("the JID has an empty resource after '/'"),
            JidError::LocalpartTooLong => f.write_str("the JID localpart exceeds 1023 bytes"),
            JidError::DomainTooLong => f.write_str("the JID domain exceeds 1023 bytes"),
            JidError::ResourceTooLong => f.write_str("the JID resource exceeds 1023 bytes"),
            JidError::BadLocalpart(c) => write!(f, "the JID localpart may not contain {c:?}"),
            JidError::BadDomain(c) => write!(f, "the JID domain may not contain {c:?}"),
            JidError::BadResource(c) => write!(f, "the JID resource may not contain {c:?}"),
            JidError::EmptyDomainLabel => f.write_str("the JID domain has an empty label"),
            JidError::BadIpLiteral => f.write_str("the JID domain is not a valid IPv6 literal"),
        }
    }
}

impl std::error::Error for JidError {}

/// A validated XMPP address in canonical form.
///
/// Equality, ordering and hashing are those of the canonical string, so a
/// `HashMap<Jid, _>` can be looked up with a `&str` that is already
/// canonical (for instance one taken from another `Jid`).
#[derive(Clone)]
pub struct Jid {
    /// `node@domain/resource` in canonical form.
    s: Box<str>,
    /// Where the domainpart starts: 0 without a localpart, else after `@`.
    domain_start: u16,
    /// Where the domainpart ends: `s.len()` without a resource, else at `/`.
    domain_end: u16,
}

/// The three parts of a JID, validated but not yet canonical.
struct Parts<'s> {
    node: Option<&'s str>,
    domain: &'s str,
    resource: Option<&'s str>,
}

/// RFC 7622 §3.1: the resource starts at the first `/`; the localpart ends at
/// the first `@` before that.
fn split(s: &str) -> Result<Parts<'_>, JidError> {
    let (bare, resource) = match s.find('/') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (node, domain) = match bare.find('@') {
        Some(i) => (Some(&bare[..i]), &bare[i + 1..]),
        None => (None, bare),
    };
    check_parts(node, domain, resource)
}

fn check_parts<'s>(
    node: Option<&'s str>,
    domain: &'s str,
    resource: Option<&'s str>,
) -> Result<Parts<'s>, JidError> {
    if let Some(n) = node {
        check_localpart(n)?;
    }
    let domain = check_domain(domain)?;
    if let Some(r) = resource {
        check_resource(r)?;
    }
    Ok(Parts {
        node,
        domain,
        resource,
    })
}

fn check_localpart(n: &str) -> Result<(), JidError> {
    if n.is_empty() {
        return Err(JidError::EmptyLocalpart);
    }
    if n.len() > MAX_PART {
        return Err(JidError::LocalpartTooLong);
    }
    match n
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || LOCALPART_FORBIDDEN.contains(c))
    {
        Some(c) => Err(JidError::BadLocalpart(c)),
        None => Ok(()),
    }
}

/// Validates a domainpart and returns it without its trailing dot.
fn check_domain(d: &str) -> Result<&str, JidError> {
    // RFC 7622 §3.2: a final label separator is not part of the identity.
    let d = d.strip_suffix('.').unwrap_or(d);
    if d.is_empty() {
        return Err(JidError::EmptyDomain);
    }
    if d.len() > MAX_PART {
        return Err(JidError::DomainTooLong);
    }
    if let Some(inner) = d.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or(JidError::BadIpLiteral)?;
        return match inner.parse::<Ipv6Addr>() {
            Ok(_) => Ok(d),
            Err(_) => Err(JidError::BadIpLiteral),
        };
    }
    // ':' only ever appears in an IPv6 literal; elsewhere it is a port or a
    // bare IPv6 address, both mistakes.
    if let Some(c) = d
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | '/' | ':' | '[' | ']'))
    {
        return Err(JidError::BadDomain(c));
    }
    // A DNS name has no empty labels; `a..b` is a typo, never an address.
    if d.split('.').any(str::is_empty) {
        return Err(JidError::EmptyDomainLabel);
    }
    Ok(d)
}

fn check_resource(r: &str) -> Result<(), JidError> {
    if r.is_empty() {
        return Err(JidError::EmptyResource);
    }
    if r.len() > MAX_PART {
        return Err(JidError::ResourceTooLong);
    }
    // OpaqueString (RFC 7613 §4.2) disallows control characters; spaces, '@'
    // and '/' are fine in a resource (MUC nicknames hold all of them).
    match r.chars().find(|c| c.is_control()) {
        Some(c) => Err(JidError::BadResource(c)),
        None => Ok(()),
    }
}

impl Jid {
    /// Parses and validates a JID, producing the canonical form.
    pub fn parse(s: &str) -> Result<Jid, JidError> {
        let p = split(s)?;
        Ok(Jid::build(&p))
    }

    /// Validates without allocating: `Ok` exactly when [`Jid::parse`] would
    /// succeed. For checking addresses on a hot path before keeping them.
    pub fn check(s: &str) -> Result<(), JidError> {
        split(s).map(|_| ())
    }

    /// Builds a JID from separate parts, validating each.
    pub fn from_parts(
        node: Option<&str>,
        domain: &str,
        resource: Option<&str>,
    ) -> Result<Jid, JidError> {
        let p = check_parts(node, domain, resource)?;
        Ok(Jid::build(&p))
    }

    /// Assembles the canonical string from validated parts.
    fn build(p: &Parts<'_>) -> Jid {
        let len = p.node.map_or(0, |n| n.len() + 1)
            + p.domain.len()
            + p.resource.map_or(0, |r| r.len() + 1);
        let mut s = String::with_capacity(len);
        if let Some(n) = p.node {
            push_ascii_lower(&mut s, n);
            s.push('@');
        }
        let domain_start = s.len() as u16;
        push_ascii_lower(&mut s, p.domain);
        let domain_end = s.len() as u16;
        if let Some(r) = p.resource {
            s.push('/');
            s.push_str(r);
        }
        Jid {
            s: s.into_boxed_str(),
            domain_start,
            domain_end,
        }
    }

    /// The canonical string.
    pub fn as_str(&self) -> &str {
        &self.s
    }

    /// The localpart, if any.
    pub fn node(&self) -> Option<&str> {
        match self.domain_start {
            0 => None,
            d => Some(&self.s[..d as usize - 1]),
        }
    }

    /// The domainpart.
    pub fn domain(&self) -> &str {
        &self.s[self.domain_start as usize..self.domain_end as usize]
    }

    /// The resourcepart, if any.
    pub fn resource(&self) -> Option<&str> {
        self.s.get(self.domain_end as usize + 1..)
    }

    /// `node@domain` or `domain`: a slice of [`Jid::as_str`].
    pub fn bare(&self) -> &str {
        &self.s[..self.domain_end as usize]
    }

    /// The bare JID as its own value.
    pub fn to_bare(&self) -> Jid {
        Jid {
            s: Box::from(self.bare()),
            domain_start: self.domain_start,
            domain_end: self.domain_end,
        }
    }

    /// True when there is no resource.
    pub fn is_bare(&self) -> bool {
        self.domain_end as usize == self.s.len()
    }

    /// This JID's bare part with `resource` (replacing any resource it had).
    pub fn with_resource(&self, resource: &str) -> Result<Jid, JidError> {
        check_resource(resource)?;
        let bare = self.bare();
        let mut s = String::with_capacity(bare.len() + 1 + resource.len());
        s.push_str(bare);
        s.push('/');
        s.push_str(resource);
        Ok(Jid {
            s: s.into_boxed_str(),
            domain_start: self.domain_start,
            domain_end: self.domain_end,
        })
    }
}

fn push_ascii_lower(out: &mut String, part: &str) {
    // Bytes that are not ASCII letters pass through, so UTF-8 stays intact.
    out.extend(part.chars().map(|c| c.to_ascii_lowercase()));
}

impl std::str::FromStr for Jid {
    type Err = JidError;
    fn from_str(s: &str) -> Result<Jid, JidError> {
        Jid::parse(s)
    }
}

impl std::fmt::Display for Jid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.s)
    }
}

impl std::fmt::Debug for Jid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.s, f)
    }
}

// The offsets are a function of the canonical string, so comparing the
// string alone is exact, and hashing it alone keeps `Borrow<str>` honest.
impl PartialEq for Jid {
    fn eq(&self, other: &Jid) -> bool {
        self.s == other.s
    }
}

impl Eq for Jid {}

impl Hash for Jid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Jid {
    fn partial_cmp(&self, other: &Jid) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Jid {
    fn cmp(&self, other: &Jid) -> std::cmp::Ordering {
        self.s.cmp(&other.s)
    }
}

impl Borrow<str> for Jid {
    fn borrow(&self) -> &str {
        &self.s
    }
}

impl AsRef<str> for Jid {
    fn as_ref(&self) -> &str {
        &self.s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Jid {
        Jid::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn size_guard() {
        assert!(std::mem::size_of::<Jid>() <= 24);
        assert_eq!(
            std::mem::size_of::<Option<Jid>>(),
            std::mem::size_of::<Jid>()
        );
    }

    #[test]
    fn parts_of_full_bare_and_domain_jids() {
        let full = j("room@conference.meet.test/focus");
        assert_eq!(full.node(), Some("room"));
        assert_eq!(full.domain(), "conference.meet.test");
        assert_eq!(full.resource(), Some("focus"));
        assert_eq!(full.bare(), "room@conference.meet.test");
        assert!(!full.is_bare());

        let bare = j("focus@auth.meet.test");
        assert_eq!(bare.node(), Some("focus"));
        assert_eq!(bare.resource(), None);
        assert!(bare.is_bare());
        assert_eq!(bare.bare(), bare.as_str());

        let domain = j("jvb.meet.test");
        assert_eq!(domain.node(), None);
        assert_eq!(domain.domain(), "jvb.meet.test");
        assert_eq!(domain.bare(), "jvb.meet.test");

        let domain_res = j("meet.test/res");
        assert_eq!(domain_res.node(), None);
        assert_eq!(domain_res.domain(), "meet.test");
        assert_eq!(domain_res.resource(), Some("res"));
    }

    #[test]
    fn first_slash_starts_the_resource_which_may_hold_at_and_slash() {
        let x = j("r@muc.test/nick@home/with/slashes");
        assert_eq!(x.node(), Some("r"));
        assert_eq!(x.domain(), "muc.test");
        assert_eq!(x.resource(), Some("nick@home/with/slashes"));
        // An '@' after the first '/' is in the resource, not a localpart.
        let y = j("muc.test/a@b");
        assert_eq!(y.node(), None);
        assert_eq!(y.resource(), Some("a@b"));
    }

    #[test]
    fn case_rules() {
        let x = j("RoOm@Conference.MEET.test/NiCk");
        assert_eq!(x.as_str(), "room@conference.meet.test/NiCk");
        assert_eq!(x, j("room@conference.meet.test/NiCk"));
        assert_ne!(x, j("room@conference.meet.test/nick"));
        // Non-ASCII is kept as received (no PRECIS, no IDNA).
        let u = j("ÉLAN@Bücher.TEST/Zoë");
        assert_eq!(u.as_str(), "Élan@bücher.test/Zoë");
        assert_eq!(u.node(), Some("Élan"));
        assert_eq!(u.domain(), "bücher.test");
    }

    #[test]
    fn trailing_dot_of_the_domain_is_stripped() {
        assert_eq!(j("a@meet.test./r").as_str(), "a@meet.test/r");
        assert_eq!(j("meet.test.").as_str(), "meet.test");
        assert_eq!(Jid::parse("a@."), Err(JidError::EmptyDomain));
    }

    #[test]
    fn ipv6_literal_domains() {
        let x = j("u@[2001:DB8::1]/r");
        assert_eq!(x.domain(), "[2001:db8::1]");
        assert_eq!(Jid::parse("u@[not-ip]"), Err(JidError::BadIpLiteral));
        assert_eq!(Jid::parse("u@[::1"), Err(JidError::BadIpLiteral));
        // An address outside brackets, or a port, is a mistake, not a domain.
        assert_eq!(Jid::parse("u@::1"), Err(JidError::BadDomain(':')));
        assert_eq!(Jid::parse("meet.test:5222"), Err(JidError::BadDomain(':')));
        assert_eq!(Jid::parse("a]b"), Err(JidError::BadDomain(']')));
    }

    #[test]
    fn rejects_invalid() {
        let cases: &[(&str, JidError)] = &[
            ("", JidError::EmptyDomain),
            ("@meet.test", JidError::EmptyLocalpart),
            ("a@", JidError::EmptyDomain),
            ("a@/r", JidError::EmptyDomain),
            ("/r", JidError::EmptyDomain),
            ("meet.test/", JidError::EmptyResource),
            ("a@meet.test/", JidError::EmptyResource),
            ("a@b@meet.test", JidError::BadDomain('@')),
            ("a b@meet.test", JidError::BadLocalpart(' ')),
            ("a\"b@meet.test", JidError::BadLocalpart('"')),
            ("a&b@meet.test", JidError::BadLocalpart('&')),
            ("a'b@meet.test", JidError::BadLocalpart('\'')),
            ("a:b@meet.test", JidError::BadLocalpart(':')),
            ("a<b@meet.test", JidError::BadLocalpart('<')),
            ("a>b@meet.test", JidError::BadLocalpart('>')),
            ("a\u{3000}b@meet.test", JidError::BadLocalpart('\u{3000}')),
            ("meet test", JidError::BadDomain(' ')),
            ("meet\ttest", JidError::BadDomain('\t')),
            ("meet..test", JidError::EmptyDomainLabel),
            (".meet.test", JidError::EmptyDomainLabel),
            ("meet.test/a\nb", JidError::BadResource('\n')),
            ("meet.test/a\u{0}b", JidError::BadResource('\u{0}')),
        ];
        for (s, e) in cases {
            assert_eq!(Jid::parse(s), Err(*e), "{s:?}");
            assert_eq!(Jid::check(s), Err(*e), "{s:?}");
        }
    }

    #[test]
    fn part_length_limits() {
        let ok = "a".repeat(1023);
        let long = "a".repeat(1024);
        assert!(Jid::parse(&format!("{ok}@{ok}/{ok}")).is_ok());
        assert_eq!(
            Jid::parse(&format!("{long}@d")),
            Err(JidError::LocalpartTooLong)
        );
        assert_eq!(Jid::parse(&long), Err(JidError::DomainTooLong));
        assert_eq!(
            Jid::parse(&format!("d/{long}")),
            Err(JidError::ResourceTooLong)
        );
        // The longest JID still has exact offsets.
        let max = j(&format!("{ok}@{ok}/{ok}"));
        assert_eq!(max.node().map(str::len), Some(1023));
        assert_eq!(max.domain().len(), 1023);
        assert_eq!(max.resource().map(str::len), Some(1023));
    }

    #[test]
    fn bare_and_resource_round_trips() {
        let full = j("Room@Muc.Test/Nick/2");
        let bare = full.to_bare();
        assert_eq!(bare.as_str(), "room@muc.test");
        assert!(bare.is_bare());
        assert_eq!(bare.node(), Some("room"));
        assert_eq!(bare.domain(), "muc.test");
        let other = full.with_resource("focus").unwrap();
        assert_eq!(other.as_str(), "room@muc.test/focus");
        assert_eq!(other.resource(), Some("focus"));
        assert_eq!(other.domain(), "muc.test");
        assert_eq!(full.with_resource(""), Err(JidError::EmptyResource));
        let domain = j("meet.test");
        assert_eq!(domain.with_resource("x").unwrap().as_str(), "meet.test/x");
        // Display output parses back to an equal JID.
        for s in ["a@b.c/d@e/f", "b.c", "a@b.c", "[::1]/x"] {
            let x = j(s);
            let shown = format!("{x}");
            assert_eq!(shown, s.to_ascii_lowercase());
            assert_eq!(j(&shown), x);
            assert_eq!(shown.parse::<Jid>(), Ok(x.clone()));
        }
    }

    #[test]
    fn from_parts_validates_and_canonicalises() {
        let x = Jid::from_parts(Some("Room"), "MUC.test", Some("Nick")).unwrap();
        assert_eq!(x.as_str(), "room@muc.test/Nick");
        assert_eq!(x, j("room@muc.test/Nick"));
        assert_eq!(
            Jid::from_parts(None, "muc.test", None).unwrap().as_str(),
            "muc.test"
        );
        // Parts are taken as given: a '/' in the resource is fine, in the
        // localpart it is not.
        assert_eq!(
            Jid::from_parts(Some("a"), "b", Some("c/d"))
                .unwrap()
                .resource(),
            Some("c/d")
        );
        assert_eq!(
            Jid::from_parts(Some("a/b"), "c", None),
            Err(JidError::BadLocalpart('/'))
        );
        assert_eq!(
            Jid::from_parts(Some(""), "c", None),
            Err(JidError::EmptyLocalpart)
        );
        assert_eq!(
            Jid::from_parts(None, "a/b", None),
            Err(JidError::BadDomain('/'))
        );
    }

    #[test]
    fn ordering_hashing_and_borrowed_lookup() {
        use std::collections::{BTreeSet, HashMap};
        let mut m = HashMap::new();
        m.insert(j("A@B.test/r"), 1);
        assert_eq!(m.get("a@b.test/r"), Some(&1));
        assert_eq!(m.get("A@B.test/r"), None, "lookups use the canonical form");
        let set: BTreeSet<Jid> = ["c.test", "a@b.test", "a.test"].map(j).into();
        let v: Vec<&str> = set.iter().map(Jid::as_str).collect();
        assert_eq!(v, ["a.test", "a@b.test", "c.test"]);
        assert_eq!(format!("{:?}", j("a@b/c")), "\"a@b/c\"");
    }
}
