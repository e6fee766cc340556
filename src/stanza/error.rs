//! Stanza errors (RFC 6120 §8.3): the defined conditions with their
//! recommended types, application-specific conditions, and the `<error/>`
//! element read and written.
//!
//! Jitsi puts meaning in application conditions (`<session-invalid/>` from
//! the focus, `<graceful-shutdown/>` and colibri2 `reason`s from bridges), so
//! they are kept with their attributes. Their content, and the address a
//! `redirect` or `gone` condition may carry, are not kept: nothing we do acts
//! on them.

use super::is_xml_name;
use crate::xml::doc::unescape;
use crate::xml::{El, XmlWriter, ns};

/// The `type` of an error (RFC 6120 §8.3.2): what the sender may do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// Retry after providing credentials.
    Auth,
    /// Do not retry (the error cannot be remedied).
    Cancel,
    /// Proceed (the condition was only a warning).
    Continue,
    /// Retry after changing the data sent.
    Modify,
    /// Retry after waiting (the error is temporary).
    Wait,
}

impl ErrorType {
    /// The attribute value on the wire.
    pub fn name(self) -> &'static str {
        match self {
            ErrorType::Auth => "auth",
            ErrorType::Cancel => "cancel",
            ErrorType::Continue => "continue",
            ErrorType::Modify => "modify",
            ErrorType::Wait => "wait",
        }
    }

    /// The type for an attribute value; `None` for anything undefined.
    pub fn from_name(name: &str) -> Option<ErrorType> {
        Some(match name {
            "auth" => ErrorType::Auth,
            "cancel" => ErrorType::Cancel,
            "continue" => ErrorType::Continue,
            "modify" => ErrorType::Modify,
            "wait" => ErrorType::Wait,
            _ => return None,
        })
    }
}

/// RFC 6120 §8.3.3 defined stanza error conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    /// `bad-request`: malformed or unprocessable request.
    BadRequest,
    /// `conflict`: a resource or session with that name already exists.
    Conflict,
    /// `feature-not-implemented`: understood, but not supported here.
    FeatureNotImplemented,
    /// `forbidden`: the requester lacks the permissions.
    Forbidden,
    /// `gone`: the recipient is no longer at this address.
    Gone,
    /// `internal-server-error`: we failed, not the requester.
    InternalServerError,
    /// `item-not-found`: the addressed item does not exist.
    ItemNotFound,
    /// `jid-malformed`: an address in the request is invalid.
    JidMalformed,
    /// `not-acceptable`: the request violates a rule of the recipient
    /// (Jicofo: invalid or foreign auth session).
    NotAcceptable,
    /// `not-allowed`: nobody may do this.
    NotAllowed,
    /// `not-authorized`: authenticate first (Jicofo: the login dialog).
    NotAuthorized,
    /// `policy-violation`: a local service policy was violated.
    PolicyViolation,
    /// `recipient-unavailable`: the recipient is temporarily away.
    RecipientUnavailable,
    /// `redirect`: ask at another address.
    Redirect,
    /// `registration-required`: register first.
    RegistrationRequired,
    /// `remote-server-not-found`: no server for the recipient's domain.
    RemoteServerNotFound,
    /// `remote-server-timeout`: the recipient's server did not answer in time.
    RemoteServerTimeout,
    /// `resource-constraint`: the recipient is too busy.
    ResourceConstraint,
    /// `service-unavailable`: no such service here (also Jicofo's graceful
    /// shutdown and the bridges' refusal to allocate).
    ServiceUnavailable,
    /// `subscription-required`: subscribe first.
    SubscriptionRequired,
    /// `undefined-condition`: none of the above; an application condition
    /// says more.
    UndefinedCondition,
    /// `unexpected-request`: out of order.
    UnexpectedRequest,
}

/// Each condition with its wire name and its RFC 6120 §8.3.3 recommended
/// type. Where the RFC allows two (feature-not-implemented, policy-violation,
/// unexpected-request) the first is taken; undefined-condition has none, and
/// cancel is the safe choice.
const CONDITIONS: &[(Condition, &str, ErrorType)] = &[
    (Condition::BadRequest, "bad-request", ErrorType::Modify),
    (Condition::Conflict, "conflict", ErrorType::Cancel),
    (
        Condition::FeatureNotImplemented,
        "feature-not-implemented",
        ErrorType::Cancel,
    ),
    (Condition::Forbidden, "forbidden", ErrorType::Auth),
    (Condition::Gone, "gone", ErrorType::Cancel),
    (
        Condition::InternalServerError,
        "internal-server-error",
        ErrorType::Cancel,
    ),
    (Condition::ItemNotFound, "item-not-found", ErrorType::Cancel),
    (Condition::JidMalformed, "jid-malformed", ErrorType::Modify),
    (
        Condition::NotAcceptable,
        "not-acceptable",
        ErrorType::Modify,
    ),
    (Condition::NotAllowed, "not-allowed", ErrorType::Cancel),
    (Condition::NotAuthorized, "not-authorized", ErrorType::Auth),
    (
        Condition::PolicyViolation,
        "policy-violation",
        ErrorType::Modify,
    ),
    (
        Condition::RecipientUnavailable,
        "recipient-unavailable",
        ErrorType::Wait,
    ),
    (Condition::Redirect, "redirect", ErrorType::Modify),
    (
        Condition::RegistrationRequired,
        "registration-required",
        ErrorType::Auth,
    ),
    (
        Condition::RemoteServerNotFound,
        "remote-server-not-found",
        ErrorType::Cancel,
    ),
    (
        Condition::RemoteServerTimeout,
        "remote-server-timeout",
        ErrorType::Wait,
    ),
    (
        Condition::ResourceConstraint,
        "resource-constraint",
        ErrorType::Wait,
    ),
    (
        Condition::ServiceUnavailable,
        "service-unavailable",
        ErrorType::Cancel,
    ),
    (
        Condition::SubscriptionRequired,
        "subscription-required",
        ErrorType::Auth,
    ),
    (
        Condition::UndefinedCondition,
        "undefined-condition",
        ErrorType::Cancel,
    ),
    (
        Condition::UnexpectedRequest,
        "unexpected-request",
        ErrorType::Wait,
    ),
];

impl Condition {
    fn entry(self) -> Option<&'static (Condition, &'static str, ErrorType)> {
        CONDITIONS.iter().find(|(c, _, _)| *c == self)
    }

    /// The element name on the wire.
    pub fn name(self) -> &'static str {
        self.entry().map_or("undefined-condition", |e| e.1)
    }

    /// The condition for an element name; unknown names are
    /// `undefined-condition`.
    pub fn from_name(name: &str) -> Condition {
        CONDITIONS
            .iter()
            .find(|(_, n, _)| *n == name)
            .map_or(Condition::UndefinedCondition, |e| e.0)
    }

    /// The type RFC 6120 §8.3.3 recommends for this condition.
    pub fn default_type(self) -> ErrorType {
        self.entry().map_or(ErrorType::Cancel, |e| e.2)
    }
}

/// An application-specific condition: a child of `<error/>` outside the
/// stanzas namespace (children whose name is not an XML name are ignored), e.g. `<session-invalid xmlns='http://jitsi.org/protocol/focus'/>`
/// or `<error xmlns='jitsi:colibri2' reason='conference_not_found'/>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCondition {
    /// Local element name.
    pub name: String,
    /// Namespace.
    pub ns: String,
    /// Unprefixed attributes (unescaped), in document order; namespace
    /// declarations and qualified (`p:name`) attributes are not kept.
    pub attrs: Vec<(String, String)>,
}

impl AppCondition {
    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A stanza error: condition, type, optional text and application conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanzaError {
    /// The defined condition.
    pub condition: Condition,
    /// What the sender may do next.
    pub error_type: ErrorType,
    /// Human-readable text (`<text/>`), if any.
    pub text: Option<String>,
    /// Application-specific conditions, in document order.
    pub app: Vec<AppCondition>,
}

impl StanzaError {
    /// An error with the condition's recommended type, no text and no
    /// application condition.
    pub fn new(condition: Condition) -> Self {
        StanzaError {
            condition,
            error_type: condition.default_type(),
            text: None,
            app: Vec::new(),
        }
    }

    /// Overrides the type (Jicofo answers some conditions with its own).
    pub fn with_type(mut self, t: ErrorType) -> Self {
        self.error_type = t;
        self
    }

    /// Adds the human-readable text.
    pub fn with_text(mut self, t: impl Into<String>) -> Self {
        self.text = Some(t.into());
        self
    }

    /// Adds an application-specific condition `<name xmlns='ns' attrs…/>`.
    pub fn with_app(mut self, name: &str, ns: &str, attrs: &[(&str, &str)]) -> Self {
        self.app.push(AppCondition {
            name: name.to_string(),
            ns: ns.to_string(),
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        });
        self
    }

    /// The first application condition in namespace `ns`.
    pub fn app(&self, ns: &str) -> Option<&AppCondition> {
        self.app.iter().find(|a| a.ns == ns)
    }

    /// Writes `<error type='…'><cond xmlns='…stanzas'/><text …>…</text><app…/></error>`.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.start("error").attr("type", self.error_type.name());
        w.start_ns(self.condition.name(), ns::STANZAS).end();
        if let Some(t) = &self.text {
            w.start_ns("text", ns::STANZAS).text(t).end();
        }
        // A name that is not an XML name would make the whole stanza
        // malformed and cost us the stream; such a condition is dropped.
        for a in self.app.iter().filter(|a| is_xml_name(&a.name)) {
            w.start_ns(&a.name, &a.ns);
            for (k, v) in a.attrs.iter().filter(|(k, _)| is_xml_name(k)) {
                w.attr(k, v);
            }
            w.end();
        }
        w.end();
    }

    /// Reads an `<error/>` element, leniently: a missing or unknown type
    /// becomes the condition's recommended type, a missing or unknown
    /// condition becomes `undefined-condition`, and every child outside the
    /// stanzas namespace is an application condition. A peer's odd error is
    /// still an error, and the caller must see it as one.
    pub fn parse(error_el: El<'_>) -> StanzaError {
        let mut condition = None;
        let mut text = None;
        let mut app = Vec::new();
        for c in error_el.children() {
            if c.ns() == ns::STANZAS {
                if c.name() == "text" {
                    if text.is_none() {
                        text = Some(c.text().into_owned());
                    }
                } else if condition.is_none() {
                    condition = Some(Condition::from_name(c.name()));
                }
            } else if is_xml_name(c.name()) {
                app.push(app_condition(c));
            }
        }
        let condition = condition.unwrap_or(Condition::UndefinedCondition);
        let error_type = error_el
            .attr_raw("type")
            .and_then(ErrorType::from_name)
            .unwrap_or(condition.default_type());
        StanzaError {
            condition,
            error_type,
            text,
            app,
        }
    }
}

fn app_condition(el: El<'_>) -> AppCondition {
    let attrs = el
        .raw_attrs()
        // Only unprefixed, well-formed names: this drops prefixed namespace
        // declarations (`raw_attrs` keeps them) and qualified attributes,
        // which could not be written back without their declarations.
        .filter(|a| is_xml_name(a.name))
        .map(|a| {
            // A value with an unknown entity is kept raw: better a visible
            // oddity in a log than a silently missing reason.
            let v = unescape(a.raw_value).unwrap_or(std::borrow::Cow::Borrowed(a.raw_value));
            (a.name.to_string(), v.into_owned())
        })
        .collect();
    AppCondition {
        name: el.name().to_string(),
        // The element tree reports namespace names as written; keep the
        // value, so writing it back escapes it exactly once.
        ns: unescape(el.ns()).map_or_else(|| el.ns().to_string(), |n| n.into_owned()),
        attrs,
    }
}

impl std::fmt::Display for StanzaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.condition.name())?;
        if let Some(t) = &self.text {
            write!(f, " ({t})")?;
        }
        Ok(())
    }
}

impl std::error::Error for StanzaError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::Parser;

    fn parse(xml: &str) -> StanzaError {
        let mut p = Parser::new();
        let doc = p.parse(xml.as_bytes(), ns::CLIENT).unwrap();
        StanzaError::parse(doc.root())
    }

    fn written(e: &StanzaError) -> String {
        let mut out = Vec::new();
        e.write(&mut XmlWriter::new(&mut out));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_condition_round_trips_by_name() {
        assert_eq!(CONDITIONS.len(), 22);
        for (c, n, _) in CONDITIONS {
            assert_eq!(c.name(), *n);
            assert_eq!(Condition::from_name(n), *c);
        }
        assert_eq!(
            Condition::from_name("x-unknown"),
            Condition::UndefinedCondition
        );
        assert_eq!(Condition::from_name(""), Condition::UndefinedCondition);
    }

    #[test]
    fn recommended_types() {
        use Condition::*;
        use ErrorType::*;
        let expected = [
            (BadRequest, Modify),
            (Conflict, Cancel),
            (FeatureNotImplemented, Cancel),
            (Forbidden, Auth),
            (Gone, Cancel),
            (InternalServerError, Cancel),
            (ItemNotFound, Cancel),
            (JidMalformed, Modify),
            (NotAcceptable, Modify),
            (NotAllowed, Cancel),
            (NotAuthorized, Auth),
            (PolicyViolation, Modify),
            (RecipientUnavailable, Wait),
            (Redirect, Modify),
            (RegistrationRequired, Auth),
            (RemoteServerNotFound, Cancel),
            (RemoteServerTimeout, Wait),
            (ResourceConstraint, Wait),
            (ServiceUnavailable, Cancel),
            (SubscriptionRequired, Auth),
            (UndefinedCondition, Cancel),
            (UnexpectedRequest, Wait),
        ];
        for (c, t) in expected {
            assert_eq!(c.default_type(), t, "{c:?}");
            assert_eq!(StanzaError::new(c).error_type, t);
        }
    }

    #[test]
    fn error_types_round_trip() {
        for t in [
            ErrorType::Auth,
            ErrorType::Cancel,
            ErrorType::Continue,
            ErrorType::Modify,
            ErrorType::Wait,
        ] {
            assert_eq!(ErrorType::from_name(t.name()), Some(t));
        }
        assert_eq!(ErrorType::from_name("Cancel"), None);
    }

    #[test]
    fn writes_condition_text_and_app_condition() {
        let e = StanzaError::new(Condition::NotAcceptable)
            .with_text("invalid session")
            .with_app("session-invalid", ns::FOCUS, &[]);
        assert_eq!(
            written(&e),
            "<error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>invalid session</text>\
             <session-invalid xmlns='http://jitsi.org/protocol/focus'/></error>"
        );
        let bare = StanzaError::new(Condition::ServiceUnavailable);
        assert_eq!(
            written(&bare),
            "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
        );
    }

    #[test]
    fn write_then_parse_round_trips() {
        let e = StanzaError::new(Condition::ServiceUnavailable)
            .with_type(ErrorType::Wait)
            .with_text("a < b & 'c'")
            .with_app("error", ns::COLIBRI2, &[("reason", "graceful_shutdown")])
            .with_app("endpoint", ns::COLIBRI2, &[("id", "ab'12")])
            .with_app("reservation-error", ns::FOCUS, &[("error-code", "403")]);
        let back = parse(&written(&e));
        assert_eq!(back, e);
        assert_eq!(back.app(ns::COLIBRI2).unwrap().name, "error");
        assert_eq!(
            back.app(ns::COLIBRI2).unwrap().attr("reason"),
            Some("graceful_shutdown")
        );
        assert_eq!(back.app(ns::FOCUS).unwrap().attr("error-code"), Some("403"));
        assert!(back.app(ns::COLIBRI).is_none());
    }

    #[test]
    fn parse_is_lenient() {
        // No type: the condition's recommended type.
        let e = parse("<error><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>");
        assert_eq!(e.condition, Condition::Forbidden);
        assert_eq!(e.error_type, ErrorType::Auth);
        // Unknown type: the same.
        let e = parse(
            "<error type='later'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
        );
        assert_eq!(e.error_type, ErrorType::Cancel);
        // Unknown condition; an explicit type is kept.
        let e = parse(
            "<error type='wait'><x-new xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
        );
        assert_eq!(e.condition, Condition::UndefinedCondition);
        assert_eq!(e.error_type, ErrorType::Wait);
        // No condition at all, only a legacy code.
        let e = parse("<error code='500'/>");
        assert_eq!(e, StanzaError::new(Condition::UndefinedCondition));
    }

    #[test]
    fn parse_reads_jitsi_errors_as_sent() {
        let e = parse(
            "<error type='cancel' code='503'>\
             <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>shutting down</text>\
             <c:graceful-shutdown xmlns:c='http://jitsi.org/protocol/colibri' c:x='1' reason='r&amp;1'/></error>",
        );
        assert_eq!(e.condition, Condition::ServiceUnavailable);
        assert_eq!(e.text.as_deref(), Some("shutting down"));
        assert_eq!(e.to_string(), "service-unavailable (shutting down)");
        let g = e.app(ns::COLIBRI).unwrap();
        assert_eq!(g.name, "graceful-shutdown");
        assert_eq!(g.attrs, vec![("reason".to_string(), "r&1".to_string())]);
    }

    #[test]
    fn names_that_are_not_xml_names_are_neither_kept_nor_written() {
        // The parser itself now refuses names that are not XML names.
        assert!(
            Parser::new()
                .parse(b"<error type='cancel'><:a='b'/></error>", ns::CLIENT)
                .is_err()
        );
        let e = parse("<error type='cancel'><ok xmlns='urn:b' a='2'/></error>");
        assert_eq!(e.app.len(), 1);
        assert_eq!(e.app[0].name, "ok");
        assert_eq!(e.app[0].attrs, vec![("a".to_string(), "2".to_string())]);
        let e = StanzaError::new(Condition::Conflict)
            .with_app("bad name", "urn:a", &[])
            .with_app("good", "urn:b", &[("x y", "1"), ("z", "2")]);
        assert_eq!(
            written(&e),
            "<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <good xmlns='urn:b' z='2'/></error>"
        );
    }

    #[test]
    fn first_condition_and_text_win() {
        let e = parse(
            "<error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>one</text>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>two</text></error>",
        );
        assert_eq!(e.condition, Condition::BadRequest);
        assert_eq!(e.text.as_deref(), Some("one"));
        assert!(e.app.is_empty());
    }

    #[test]
    fn display() {
        assert_eq!(
            StanzaError::new(Condition::ItemNotFound).to_string(),
            "item-not-found"
        );
        assert_eq!(
            StanzaError::new(Condition::ItemNotFound)
                .with_text("no room")
                .to_string(),
            "item-not-found (no room)"
        );
    }
}
