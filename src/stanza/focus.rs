//! The focus protocol (`http://jitsi.org/protocol/focus`) as typed values:
//! the conference request and its answer, the `login-url` and `logout` IQs,
//! and the two Colibri-namespace IQs the SEED component answered (`stats`
//! and `graceful-shutdown`). Also the exact errors Jicofo answered them
//! with, because lib-jitsi-meet acts on the condition and on
//! `<session-invalid/>`.
//!
//! Requests are borrowed views of the frame; answers are written straight
//! into an [`XmlWriter`] (the caller wraps them in a result `<iq/>` with
//! [`super::iq::write_result`], and errors with
//! [`super::iq::write_error_reply`]). Nothing here decides anything: which
//! error applies is the conference logic's business (protocol.md §1.3).
//!
//! The session id and the `token` of a request are credentials, so the
//! `Debug` output of the request types hides them.

use std::borrow::Cow;

use super::{Condition, Iq, IqType, Jid, StanzaError, StanzaParseError, opt_attr};
use crate::xml::{El, XmlWriter, ns};

/// Text of `not_authorized()`: CURRENT Jicofo's wording (SEED sent none).
pub const NOT_AUTHORIZED_TEXT: &str = "not authorized user domain";
/// Text of `session_invalid()`.
pub const SESSION_INVALID_TEXT: &str = "invalid session";
/// Text of `machine_uid_mismatch()`.
pub const MACHINE_UID_MISMATCH_TEXT: &str = "machine UID mismatch or empty";
/// Text of `missing_machine_uid()`.
pub const MISSING_MACHINE_UID_TEXT: &str = "Missing mandatory attribute 'machine-uid'";
/// Text of `missing_room()`.
pub const MISSING_ROOM_TEXT: &str = "No 'room' specified.";
/// Text of the `login-url` error for a missing `machine-uid` (Jicofo named
/// the attribute differently here than in the conference IQ).
pub const LOGIN_URL_MISSING_MACHINE_UID_TEXT: &str = "missing mandatory attribute 'machineUID'";

/// Reads an optional attribute; an empty value counts as absent, as in
/// Jicofo's parsers (`isNullOrEmpty` on every one of them).
fn non_empty<'a>(
    el: &El<'a>,
    name: &'static str,
) -> Result<Option<Cow<'a, str>>, StanzaParseError> {
    Ok(opt_attr(el, name)?.filter(|v| !v.is_empty()))
}

fn expect_focus(el: &El<'_>, name: &str, what: &'static str) -> Result<(), StanzaParseError> {
    if el.is(name, ns::FOCUS) {
        Ok(())
    } else {
        Err(StanzaParseError::NotA(what))
    }
}

/// Shows whether a credential is present without showing it.
fn redacted<T>(v: &Option<T>) -> Option<&'static str> {
    v.as_ref().map(|_| "***")
}

// ---------------------------------------------------------------------------
// Conference request and response (protocol.md §1.2, §1.4)

/// A conference request (`<conference/>`, IQ type `set`), borrowing its
/// frame. Attributes that are empty are read as absent.
#[derive(Clone, PartialEq, Eq)]
pub struct ConferenceRequest<'a> {
    /// The MUC room's bare JID as sent, not validated (see
    /// [`ConferenceRequest::room_jid`]).
    pub room: Option<Cow<'a, str>>,
    /// The browser's stable id, needed to create an auth session.
    pub machine_uid: Option<Cow<'a, str>>,
    /// An auth session id obtained earlier.
    pub session_id: Option<Cow<'a, str>>,
    /// CURRENT only: a JWT. Kept for completeness; never logged.
    pub token: Option<Cow<'a, str>>,
    /// `<property name value/>` children in document order (a property
    /// without a name is dropped, one without a value reads as "").
    pub properties: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl std::fmt::Debug for ConferenceRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConferenceRequest")
            .field("room", &self.room)
            .field("machine_uid", &self.machine_uid)
            .field("session_id", &redacted(&self.session_id))
            .field("token", &redacted(&self.token))
            .field("properties", &self.properties)
            .finish()
    }
}

impl<'a> ConferenceRequest<'a> {
    /// Reads `<conference xmlns='http://jitsi.org/protocol/focus'>`.
    ///
    /// Properties are taken by local name whatever their namespace: SEED
    /// clients sent them without `xmlns` (inheriting the focus namespace),
    /// CURRENT ones with it, and Jicofo's parser never looked. Response-only
    /// attributes (`ready`, `focusjid`, `identity`, `vnode`) are ignored.
    pub fn parse(payload: El<'a>) -> Result<Self, StanzaParseError> {
        expect_focus(&payload, "conference", "a focus <conference/>")?;
        let mut properties = Vec::new();
        for c in payload.children().filter(|c| c.name() == "property") {
            let Some(name) = non_empty(&c, "name")? else {
                continue;
            };
            let value = opt_attr(&c, "value")?.unwrap_or(Cow::Borrowed(""));
            properties.push((name, value));
        }
        Ok(ConferenceRequest {
            room: non_empty(&payload, "room")?,
            machine_uid: non_empty(&payload, "machine-uid")?,
            session_id: non_empty(&payload, "session-id")?,
            token: non_empty(&payload, "token")?,
            properties,
        })
    }

    /// A property's value. When a name repeats, the last one wins, as in
    /// Jicofo's property map.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// The room as a bare JID with a localpart, or the error to answer:
    /// [`missing_room`] without one, [`bad_room`] for anything that is not
    /// `name@muc.domain`. Whether the domain is a MUC service we serve is for
    /// the caller to check (also with [`bad_room`]).
    pub fn room_jid(&self) -> Result<Jid, StanzaError> {
        let room = self.room.as_deref().ok_or_else(missing_room)?;
        parse_room(room)
    }
}

/// Parses a room address: a bare JID with a localpart.
fn parse_room(room: &str) -> Result<Jid, StanzaError> {
    let jid = Jid::parse(room).map_err(|e| bad_room(&format!("invalid room JID: {e}")))?;
    if jid.node().is_none() || !jid.is_bare() {
        return Err(bad_room("the room must be a bare JID: name@muc.domain"));
    }
    Ok(jid)
}

/// True for a conference request: a `set` with a focus `<conference/>`.
pub fn is_conference_request(iq: &Iq<'_>) -> bool {
    iq.ty == IqType::Set && iq.payload_is("conference", ns::FOCUS)
}

/// The answer to a conference request (protocol.md §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConferenceResponse<'a> {
    /// The room, echoed from the request.
    pub room: &'a str,
    /// Whether the focus is in the room, so the client may join it.
    pub ready: bool,
    /// The focus user's bare JID, which clients use to tell the real focus
    /// occupant from impostors.
    pub focus_jid: &'a str,
    /// The auth session the request was bound to, if any.
    pub session_id: Option<&'a str>,
    /// The authenticated identity (bare JID), if any.
    pub identity: Option<&'a str>,
    /// `authentication`, `externalAuth`, `sipGatewayEnabled`, … in order.
    pub properties: &'a [(&'a str, &'a str)],
}

impl ConferenceResponse<'_> {
    /// Writes the `<conference/>` element. Properties are written without
    /// their own `xmlns`: they inherit the focus namespace, which every
    /// client version reads the same.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.start_ns("conference", ns::FOCUS)
            .attr("room", self.room)
            .attr("ready", if self.ready { "true" } else { "false" })
            .attr("focusjid", self.focus_jid)
            .attr_opt("session-id", self.session_id)
            .attr_opt("identity", self.identity);
        for (name, value) in self.properties {
            w.start("property")
                .attr("name", name)
                .attr("value", value)
                .end();
        }
        w.end();
    }
}

// ---------------------------------------------------------------------------
// Errors (protocol.md §1.5). Types are the RFC 6120 defaults, which are also
// what Smack gave Jicofo for these conditions.

/// `bad-request` "No 'room' specified.": a request without `room`.
pub fn missing_room() -> StanzaError {
    StanzaError::new(Condition::BadRequest).with_text(MISSING_ROOM_TEXT)
}

/// `not-authorized` (type `auth`): auth is on, the room does not exist and
/// the sender is not authenticated. lib-jitsi-meet shows the login dialog.
pub fn not_authorized() -> StanzaError {
    StanzaError::new(Condition::NotAuthorized).with_text(NOT_AUTHORIZED_TEXT)
}

/// `not-acceptable` (type `modify`) "invalid session" with
/// `<session-invalid xmlns='http://jitsi.org/protocol/focus'/>`: the session
/// id is unknown or expired. The client drops it and retries without.
pub fn session_invalid() -> StanzaError {
    StanzaError::new(Condition::NotAcceptable)
        .with_text(SESSION_INVALID_TEXT)
        .with_app("session-invalid", ns::FOCUS, &[])
}

/// `not-acceptable` "machine UID mismatch or empty": a known session used
/// from another browser, or without `machine-uid`.
pub fn machine_uid_mismatch() -> StanzaError {
    StanzaError::new(Condition::NotAcceptable).with_text(MACHINE_UID_MISMATCH_TEXT)
}

/// `not-acceptable` "Missing mandatory attribute 'machine-uid'": a session
/// would be created but the request has no `machine-uid`.
pub fn missing_machine_uid() -> StanzaError {
    StanzaError::new(Condition::NotAcceptable).with_text(MISSING_MACHINE_UID_TEXT)
}

/// `service-unavailable` (type `cancel`) with
/// `<graceful-shutdown xmlns='http://jitsi.org/protocol/colibri'/>`: the
/// focus is shutting down and refuses new rooms.
pub fn graceful_shutdown() -> StanzaError {
    StanzaError::new(Condition::ServiceUnavailable).with_app("graceful-shutdown", ns::COLIBRI, &[])
}

/// `bad-request` with `reason` as text: a malformed room JID, or a room on
/// a domain that is not a MUC service we serve.
pub fn bad_room(reason: &str) -> StanzaError {
    StanzaError::new(Condition::BadRequest).with_text(reason)
}

/// `internal-server-error` with `text`: we failed (e.g. the MUC join).
pub fn internal_error(text: &str) -> StanzaError {
    StanzaError::new(Condition::InternalServerError).with_text(text)
}

/// `service-unavailable`: a `login-url` or `logout` request while no
/// authentication is configured. (SEED answered `logout` with
/// `feature-not-implemented`; CURRENT, which registers no handler then,
/// with `service-unavailable`, the answer RFC 6120 asks for.)
pub fn auth_unavailable() -> StanzaError {
    StanzaError::new(Condition::ServiceUnavailable)
}

// ---------------------------------------------------------------------------
// login-url and logout (protocol.md §1.7)

/// A `login-url` request (IQ type `get`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginUrlRequest<'a> {
    /// The room to log in for, as sent.
    pub room: Option<Cow<'a, str>>,
    /// The browser's stable id.
    pub machine_uid: Option<Cow<'a, str>>,
    /// Whether the URL will open in a popup (only `true` counts).
    pub popup: bool,
}

impl<'a> LoginUrlRequest<'a> {
    /// Reads `<login-url xmlns='http://jitsi.org/protocol/focus'/>`.
    pub fn parse(payload: El<'a>) -> Result<Self, StanzaParseError> {
        expect_focus(&payload, "login-url", "a focus <login-url/>")?;
        Ok(LoginUrlRequest {
            room: non_empty(&payload, "room")?,
            machine_uid: non_empty(&payload, "machine-uid")?,
            popup: opt_attr(&payload, "popup")?.is_some_and(|p| p.eq_ignore_ascii_case("true")),
        })
    }

    /// The room and machine uid, or the error Jicofo answered, checked in its
    /// order: no room → `not-acceptable`; no machine uid → `bad-request`
    /// "missing mandatory attribute 'machineUID'"; a room that is not
    /// `name@domain` → [`bad_room`]. (The "no auth configured" check,
    /// [`auth_unavailable`], comes before all of these and is the caller's.)
    pub fn validate(&self) -> Result<(Jid, &str), StanzaError> {
        let room = self
            .room
            .as_deref()
            .ok_or_else(|| StanzaError::new(Condition::NotAcceptable))?;
        let machine_uid = self.machine_uid.as_deref().ok_or_else(|| {
            StanzaError::new(Condition::BadRequest).with_text(LOGIN_URL_MISSING_MACHINE_UID_TEXT)
        })?;
        Ok((parse_room(room)?, machine_uid))
    }
}

/// True for a `get` with a focus `<login-url/>`.
pub fn is_login_url_request(iq: &Iq<'_>) -> bool {
    iq.ty == IqType::Get && iq.payload_is("login-url", ns::FOCUS)
}

/// The login URL of the XMPP-domain authority: `./<room local part>?login=true`,
/// relative to the page the client runs on. The room must have a localpart
/// (see [`LoginUrlRequest::validate`]); without one, `./?login=true`.
pub fn xmpp_login_url(room: &Jid) -> String {
    format!("./{}?login=true", room.node().unwrap_or(""))
}

/// Writes the `login-url` answer: `<login-url xmlns='…focus' url='…'/>` with
/// the URL percent-encoded, which the client undoes with
/// `decodeURIComponent`.
pub fn write_login_url_result(w: &mut XmlWriter<'_>, url: &str) {
    w.start_ns("login-url", ns::FOCUS)
        .attr("url", &percent_encode(url))
        .end();
}

/// A `logout` request (IQ type `set`).
#[derive(Clone, PartialEq, Eq)]
pub struct LogoutRequest<'a> {
    /// The session to destroy; `None` answers as an unknown session.
    pub session_id: Option<Cow<'a, str>>,
}

impl std::fmt::Debug for LogoutRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogoutRequest")
            .field("session_id", &redacted(&self.session_id))
            .finish()
    }
}

impl<'a> LogoutRequest<'a> {
    /// Reads `<logout xmlns='http://jitsi.org/protocol/focus'/>`.
    pub fn parse(payload: El<'a>) -> Result<Self, StanzaParseError> {
        expect_focus(&payload, "logout", "a focus <logout/>")?;
        Ok(LogoutRequest {
            session_id: non_empty(&payload, "session-id")?,
        })
    }
}

/// True for a `set` with a focus `<logout/>`.
pub fn is_logout_request(iq: &Iq<'_>) -> bool {
    iq.ty == IqType::Set && iq.payload_is("logout", ns::FOCUS)
}

/// Writes the `logout` answer. `logout_url` (percent-encoded) exists only
/// for external authorities; the XMPP-domain one passes `None`. As Jicofo's,
/// the answer does not repeat the session id.
pub fn write_logout_result(w: &mut XmlWriter<'_>, logout_url: Option<&str>) {
    w.start_ns("logout", ns::FOCUS);
    if let Some(u) = logout_url {
        w.attr("logout-url", &percent_encode(u));
    }
    w.end();
}

/// Percent-encodes `s` (RFC 3986): unreserved characters (`A-Z a-z 0-9 - . _ ~`)
/// are kept, every other byte of the UTF-8 form becomes `%XX` (uppercase).
///
/// Jicofo used Java's `URLEncoder` (form encoding), which writes a space as
/// `+`, keeps `*` and encodes `~`. The client decodes with
/// `decodeURIComponent`, which reads `%20` and `~` correctly and would leave a
/// `+` as is, so RFC 3986 is the form the client actually understands; for
/// the URLs the XMPP authority produces both give the same bytes.
pub fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Colibri-namespace IQs of the SEED component (protocol.md §1.8)

/// True for a `get` with `<stats xmlns='http://jitsi.org/protocol/colibri'/>`.
pub fn is_stats_request(iq: &Iq<'_>) -> bool {
    iq.ty == IqType::Get && iq.payload_is("stats", ns::COLIBRI)
}

/// Writes the `stats` answer: conference and participant counts and whether
/// the focus is in graceful shutdown.
pub fn write_stats_result(
    w: &mut XmlWriter<'_>,
    conferences: usize,
    participants: usize,
    graceful_shutdown: bool,
) {
    w.start_ns("stats", ns::COLIBRI);
    w.start("stat")
        .attr("name", "conferences")
        .attr_num("value", conferences)
        .end();
    w.start("stat")
        .attr("name", "participants")
        .attr_num("value", participants)
        .end();
    w.start("stat")
        .attr("name", "graceful_shutdown")
        .attr("value", if graceful_shutdown { "true" } else { "false" })
        .end();
    w.end();
}

/// A shutdown request in the Colibri namespace (IQ type `set`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownRequest {
    /// `<graceful-shutdown/>`: refuse new rooms, exit after the last one.
    Graceful,
    /// `<force-shutdown/>`: the focus never honoured it.
    Force,
}

/// The shutdown request an IQ carries, if it is a `set` with one.
pub fn shutdown_request(iq: &Iq<'_>) -> Option<ShutdownRequest> {
    if iq.ty != IqType::Set {
        return None;
    }
    if iq.payload_is("graceful-shutdown", ns::COLIBRI) {
        Some(ShutdownRequest::Graceful)
    } else if iq.payload_is("force-shutdown", ns::COLIBRI) {
        Some(ShutdownRequest::Force)
    } else {
        None
    }
}

/// Whether a shutdown request is to be obeyed, checked in SEED's order: a
/// forced shutdown is `bad-request`; then the sender's bare JID must equal
/// `allowed` (`org.jitsi.jicofo.SHUTDOWN_ALLOWED_JID`), else `forbidden`
/// (also when nobody is allowed).
pub fn authorize_shutdown(
    request: ShutdownRequest,
    from: Option<&Jid>,
    allowed: Option<&Jid>,
) -> Result<(), StanzaError> {
    if request == ShutdownRequest::Force {
        return Err(StanzaError::new(Condition::BadRequest));
    }
    match (from, allowed) {
        (Some(f), Some(a)) if f.bare() == a.bare() => Ok(()),
        _ => Err(StanzaError::new(Condition::Forbidden)),
    }
}

#[cfg(test)]
mod tests;
