//! The Jingle requests the focus sends (protocol.md §5.2–5.9). Each writer
//! appends one whole `<iq type='set'/>`; `from` is needed on the component
//! connection only, as everywhere in [`crate::stanza`].
//!
//! An offer is data the focus assembles per participant ([`Offer`]): the
//! contents with their codecs and the bridge's transport, and the sources
//! of everyone else with their owners. The writer places each source in
//! the content of its media, owner by owner, sources before groups (as
//! Jicofo does); sources of a media the offer has no content for are left
//! out, since the participant could not receive them anyway.

use super::{
    Action, BridgeSession, Creator, IceUdpTransport, ReasonCondition, RtpDescription, SctpMap,
    Senders, StartMuted, write_source, write_ssrc_group,
};
use crate::stanza::iq::{IqType, write_request};
use crate::stanza::sources::{EndpointSourceSet, MediaType};
use crate::xml::{XmlWriter, ns};

/// One content of an offer.
#[derive(Debug, Clone, Copy)]
pub struct OfferContent<'o> {
    /// The content name: `audio`, `video` or `data`.
    pub name: &'o str,
    /// Who sends (`both` in every focus offer).
    pub senders: Senders,
    /// The codecs; its `media` also says which sources go here.
    pub description: Option<&'o RtpDescription>,
    /// The bridge's transport (the same one in every content with BUNDLE).
    pub transport: Option<&'o IceUdpTransport>,
    /// The SCTP map for the data content, written inside the transport in
    /// place of the transport's own.
    pub sctpmap: Option<&'o SctpMap>,
    /// SEED's `<bundle xmlns='http://estos.de/ns/bundle'/>` marker.
    pub estos_bundle: bool,
}

/// A `session-initiate` or `transport-replace`, as the focus builds it.
#[derive(Debug, Clone)]
pub struct Offer<'o> {
    /// The session id.
    pub sid: &'o str,
    /// The focus's real full JID.
    pub initiator: &'o str,
    /// The contents, in order (audio, video, data).
    pub contents: &'o [OfferContent<'o>],
    /// Sources to announce, by owner (the bridge's `jvb` first, then the
    /// other participants'), in the order given.
    pub sources: &'o [(&'o str, &'o EndpointSourceSet)],
    /// Add `<group semantics='BUNDLE'/>` naming every content.
    pub bundle: bool,
    /// Add `<startmuted/>`.
    pub start_muted: Option<StartMuted>,
    /// Add `<bridge-session/>` (CURRENT).
    pub bridge_session: Option<BridgeSession<'o>>,
}

/// Writes `session-initiate` (§5.2, §5.3).
pub fn write_session_initiate(
    out: &mut Vec<u8>,
    id: &str,
    from: Option<&str>,
    to: &str,
    offer: &Offer<'_>,
) {
    write_offer(out, Action::SessionInitiate, id, from, to, offer);
}

/// Writes `transport-replace`: the same structure as `session-initiate`
/// (§5.7), for a participant moved to another bridge.
pub fn write_transport_replace(
    out: &mut Vec<u8>,
    id: &str,
    from: Option<&str>,
    to: &str,
    offer: &Offer<'_>,
) {
    write_offer(out, Action::TransportReplace, id, from, to, offer);
}

fn write_offer(
    out: &mut Vec<u8>,
    action: Action,
    id: &str,
    from: Option<&str>,
    to: &str,
    offer: &Offer<'_>,
) {
    write_request(out, IqType::Set, id, from, to, |w| {
        w.start_ns("jingle", ns::JINGLE)
            .attr("action", action.name())
            .attr("initiator", offer.initiator)
            .attr("sid", offer.sid);
        for c in offer.contents {
            write_offer_content(w, c, offer.sources);
        }
        if offer.bundle {
            w.start_ns("group", ns::JINGLE_GROUPING)
                .attr("semantics", "BUNDLE");
            for c in offer.contents {
                w.start("content").attr("name", c.name).end();
            }
            w.end();
        }
        if let Some(s) = offer.start_muted {
            s.write(w);
        }
        if let Some(b) = &offer.bridge_session {
            b.write(w);
        }
        w.end();
    });
}

fn write_offer_content(
    w: &mut XmlWriter<'_>,
    c: &OfferContent<'_>,
    sources: &[(&str, &EndpointSourceSet)],
) {
    w.start("content")
        .attr("creator", Creator::Initiator.name())
        .attr("name", c.name)
        .attr("senders", c.senders.name());
    if let Some(d) = c.description {
        d.write_open(w);
        if let Some(media) = MediaType::from_name(&d.media) {
            write_owned_sources(w, media, sources);
        }
        w.end();
    }
    if let Some(t) = c.transport {
        t.write_with_sctpmap(w, c.sctpmap.or(t.sctpmap.as_ref()));
    }
    if c.estos_bundle {
        w.start_ns("bundle", ns::ESTOS_BUNDLE).end();
    }
    w.end();
}

/// Each owner's sources of `media` with `<ssrc-info owner/>`, then its
/// groups of `media`.
fn write_owned_sources(
    w: &mut XmlWriter<'_>,
    media: MediaType,
    sources: &[(&str, &EndpointSourceSet)],
) {
    for (owner, set) in sources {
        for s in set.sources_of(media) {
            write_source(w, s, Some(owner));
        }
        for g in set.groups_of(media) {
            write_ssrc_group(w, g);
        }
    }
}

/// Writes `source-add`, `source-remove` or their legacy spellings
/// (`action` must be one of the four): a `<content name='<media>'>` with a
/// description per media that has anything to say, audio first (§5.5).
pub fn write_source_update(
    out: &mut Vec<u8>,
    action: Action,
    id: &str,
    from: Option<&str>,
    to: &str,
    sid: &str,
    sources: &[(&str, &EndpointSourceSet)],
) {
    debug_assert!(
        action.is_source_add() || action.is_source_remove(),
        "write_source_update with {}",
        action.name()
    );
    write_request(out, IqType::Set, id, from, to, |w| {
        w.start_ns("jingle", ns::JINGLE)
            .attr("action", action.name())
            .attr("sid", sid);
        for media in MediaType::ALL {
            if !sources.iter().any(|(_, set)| set.has_media(media)) {
                continue;
            }
            w.start("content").attr("name", media.name());
            w.start_ns("description", ns::JINGLE_RTP)
                .attr("media", media.name());
            write_owned_sources(w, media, sources);
            w.end().end();
        }
        w.end();
    });
}

/// Writes `source-add` with each owner's sources and groups.
pub fn write_source_add(
    out: &mut Vec<u8>,
    id: &str,
    from: Option<&str>,
    to: &str,
    sid: &str,
    sources: &[(&str, &EndpointSourceSet)],
) {
    write_source_update(out, Action::SourceAdd, id, from, to, sid, sources);
}

/// Writes `source-remove` with each owner's sources and groups.
pub fn write_source_remove(
    out: &mut Vec<u8>,
    id: &str,
    from: Option<&str>,
    to: &str,
    sid: &str,
    sources: &[(&str, &EndpointSourceSet)],
) {
    write_source_update(out, Action::SourceRemove, id, from, to, sid, sources);
}

/// Writes `session-terminate` with `<reason><CONDITION/><text/></reason>`
/// (§5.9) and, when given, the `<bridge-session/>`.
#[allow(clippy::too_many_arguments)]
pub fn write_session_terminate(
    out: &mut Vec<u8>,
    id: &str,
    from: Option<&str>,
    to: &str,
    sid: &str,
    reason: ReasonCondition,
    text: Option<&str>,
    bridge_session: Option<&BridgeSession<'_>>,
) {
    write_request(out, IqType::Set, id, from, to, |w| {
        w.start_ns("jingle", ns::JINGLE)
            .attr("action", Action::SessionTerminate.name())
            .attr("sid", sid);
        w.start("reason").start(reason.name()).end();
        if let Some(t) = text {
            w.text_element("text", t);
        }
        w.end();
        if let Some(b) = bridge_session {
            b.write(w);
        }
        w.end();
    });
}

/// Writes `transport-info` with one `content creator='initiator'` holding
/// `transport` (§5.7: the focus's in-place ICE restart uses `audio`).
pub fn write_transport_info(
    out: &mut Vec<u8>,
    id: &str,
    from: Option<&str>,
    to: &str,
    sid: &str,
    content_name: &str,
    transport: &IceUdpTransport,
) {
    write_request(out, IqType::Set, id, from, to, |w| {
        w.start_ns("jingle", ns::JINGLE)
            .attr("action", Action::TransportInfo.name())
            .attr("sid", sid);
        w.start("content")
            .attr("creator", Creator::Initiator.name())
            .attr("name", content_name);
        transport.write(w);
        w.end().end();
    });
}
