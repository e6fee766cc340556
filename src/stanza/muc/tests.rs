//! Literal-XML tests of the MUC layer: what Prosody and ejabberd send, what
//! Jitsi Meet clients put in their presence, and what the focus writes.

use super::*;
use crate::stanza::Condition;
use crate::xml::Parser;

/// Parses `xml` as a presence on the client stream and hands the MUC view
/// (or the error) to `f`.
fn muc<R>(xml: &str, f: impl FnOnce(Result<MucPresence<'_>, StanzaParseError>) -> R) -> R {
    let mut parser = Parser::new();
    let doc = parser.parse(xml.as_bytes(), ns::CLIENT).unwrap();
    let p = Presence::parse(doc.root()).unwrap();
    f(MucPresence::parse(&p))
}

fn occupant(xml: &str) -> Option<Occupant> {
    muc(xml, |p| Occupant::from_presence(&p.unwrap()))
}

fn update(o: &mut Occupant, xml: &str) -> Option<OccupantChanges> {
    muc(xml, |p| o.update(&p.unwrap()))
}

fn s(out: Vec<u8>) -> String {
    String::from_utf8(out).unwrap()
}

const ROOM: &str = "myroom@conference.example.com";

/// The focus's self-presence after creating the room (§2.2).
const SELF_PRESENCE: &str = "<presence from='myroom@conference.example.com/focus' \
    to='focus@auth.example.com/focus'>\
    <x xmlns='http://jabber.org/protocol/muc#user'>\
    <item affiliation='owner' role='moderator' jid='focus@auth.example.com/focus'/>\
    <status code='110'/><status code='201'/></x></presence>";

/// A current Jitsi Meet participant with every §2.6 extension.
const FULL_PARTICIPANT: &str = "<presence from='myroom@conference.example.com/ab12cd34' \
    to='focus@auth.example.com/focus'>\
    <status>hello</status>\
    <nick xmlns='http://jabber.org/protocol/nick'>Zoë &amp; co</nick>\
    <startmuted xmlns='http://jitsi.org/jitmeet/start-muted' audio='true' video='false'/>\
    <audiomuted>false</audiomuted><videomuted>false</videomuted>\
    <SourceInfo>{\"ab12cd34-a0\":{\"muted\":true},\"ab12cd34-v0\":{\"muted\":false,\"videoType\":\"camera\"}}</SourceInfo>\
    <jitsi_participant_region>us-east-1</jitsi_participant_region>\
    <stats-id>Name-abc</stats-id>\
    <jitsi_participant_codecList>VP9,vp8,h264</jitsi_participant_codecList>\
    <features><feature var='http://jitsi.org/protocol/jibri'/><feature var='urn:x:other'/></features>\
    <jitsi_participant_diarize>true</jitsi_participant_diarize>\
    <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://jitsi.org/jitsi-meet' ver='k7Q+2A='/>\
    <x xmlns='http://jabber.org/protocol/muc#user'>\
    <item affiliation='none' role='participant' jid='a1b2c3@guest.example.com/x-7'/></x></presence>";

#[test]
fn self_presence_after_creating_the_room() {
    muc(SELF_PRESENCE, |p| {
        let p = p.unwrap();
        assert_eq!(p.room, ROOM);
        assert_eq!(p.nick.as_deref(), Some("focus"));
        assert_eq!(p.occupant_jid, "myroom@conference.example.com/focus");
        assert_eq!(p.ty, PresenceType::Available);
        assert!(p.is_self());
        assert!(p.room_created());
        assert!(p.is_occupant());
        assert_eq!(p.status_codes.as_slice(), [110, 201]);
        let item = p.item.as_ref().unwrap();
        assert_eq!(
            (item.affiliation, item.role),
            (Affiliation::Owner, Role::Moderator)
        );
        assert_eq!(item.jid.as_deref(), Some("focus@auth.example.com/focus"));
        assert_eq!(p.member_role(), MemberRole::Owner);
        assert!(!p.was_kicked() && p.room_destroyed().is_none() && p.error.is_none());
        // Zero-copy: the strings point into the frame.
        assert!(matches!(p.room, Cow::Borrowed(_)));
        assert!(matches!(p.nick, Some(Cow::Borrowed(_))));
    });
}

#[test]
fn a_participant_with_every_extension() {
    let o = occupant(FULL_PARTICIPANT).unwrap();
    assert_eq!(
        o.occupant_jid.as_str(),
        "myroom@conference.example.com/ab12cd34"
    );
    assert_eq!(o.nick(), "ab12cd34");
    assert_eq!(o.room(), ROOM);
    assert_eq!(
        o.real_jid.as_ref().map(Jid::as_str),
        Some("a1b2c3@guest.example.com/x-7")
    );
    assert_eq!(
        (o.role, o.affiliation),
        (Role::Participant, Affiliation::None)
    );
    assert_eq!(o.member_role(), MemberRole::Participant);
    // SourceInfo wins over the legacy elements.
    assert_eq!((o.audio_muted, o.video_muted), (Some(true), Some(false)));
    assert!(o.is_audio_muted() && !o.is_video_muted());
    assert_eq!(o.start_muted, Some((true, false)));
    assert_eq!(o.region.as_deref(), Some("us-east-1"));
    assert_eq!(o.stats_id.as_deref(), Some("Name-abc"));
    assert_eq!(o.display_name.as_deref(), Some("Zoë & co"));
    assert_eq!(o.status_text.as_deref(), Some("hello"));
    assert!(o.diarize);
    let caps = o.caps.as_ref().unwrap();
    assert_eq!(
        (caps.node(), caps.ver(), caps.hash()),
        ("https://jitsi.org/jitsi-meet", "k7Q+2A=", Some("sha-1"))
    );
    assert_eq!(&*o.features, [FEATURE_JIBRI.into(), "urn:x:other".into()]);
    assert!(o.has_feature(FEATURE_JIBRI));
    assert_eq!(o.video_codecs().collect::<Vec<_>>(), ["vp9", "vp8", "h264"]);
    assert!(!o.is_switching_room());
}

#[test]
fn jibri_and_jigasi_only_from_trusted_domains() {
    let o = occupant(FULL_PARTICIPANT).unwrap();
    assert!(o.is_jibri(&["guest.example.com"]));
    assert!(o.is_jibri(&["other.test", "GUEST.example.com"]));
    assert!(
        !o.is_jibri(&["example.com"]),
        "a parent domain is not the domain"
    );
    assert!(!o.is_jibri::<&str>(&[]));
    assert!(!o.is_jigasi(&["guest.example.com"]));
    assert!(!o.is_transcriber(&["guest.example.com"]));

    // Without a real JID (anonymous room) nothing is trusted.
    let anon = occupant(
        "<presence from='r@m.test/j'><features><feature var='http://jitsi.org/protocol/jigasi'/>\
         <feature var='http://jitsi.org/protocol/transcriber'/></features>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/></x></presence>",
    )
    .unwrap();
    assert!(anon.has_feature(FEATURE_JIGASI));
    assert!(!anon.is_jigasi(&["m.test"]));

    let trusted = occupant(
        "<presence from='r@m.test/j'><features><feature var='http://jitsi.org/protocol/jigasi'/>\
         <feature var='http://jitsi.org/protocol/transcriber'/></features>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <item role='participant' jid='jigasi@auth.m.test/r'/></x></presence>",
    )
    .unwrap();
    assert!(trusted.is_jigasi(&["auth.m.test"]));
    assert!(trusted.is_transcriber(&["auth.m.test".to_string()]));
    assert!(!trusted.is_jibri(&["auth.m.test"]));
}

#[test]
fn ejabberd_room_presence_is_not_an_occupant() {
    let xml = "<presence from='myroom@conference.example.com' to='focus@auth.example.com/focus'>\
        <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://www.process-one.net/en/ejabberd/' \
        ver='B4mAs='/></presence>";
    muc(xml, |p| {
        let p = p.unwrap();
        assert_eq!(p.room, ROOM);
        assert_eq!(p.nick, None);
        assert!(!p.is_occupant() && !p.is_self());
        assert_eq!(p.item, None);
        assert_eq!(Occupant::from_presence(&p), None);
    });
}

#[test]
fn kicked_participant() {
    let xml = "<presence type='unavailable' from='myroom@conference.example.com/ab12cd34'>\
        <x xmlns='http://jabber.org/protocol/muc#user'>\
        <item affiliation='none' role='none'><actor nick='mod'/><reason>bye</reason></item>\
        <status code='307'/></x></presence>";
    muc(xml, |p| {
        let p = p.unwrap();
        assert_eq!(p.ty, PresenceType::Unavailable);
        assert!(p.was_kicked());
        assert!(!p.was_banned() && !p.was_removed() && !p.is_self());
        assert_eq!(p.room_destroyed(), None);
        assert_eq!(p.member_role(), MemberRole::Visitor);
        // An unavailable presence never makes a new occupant.
        assert_eq!(Occupant::from_presence(&p), None);
    });
    // 307 on an available presence is not a kick.
    muc(
        "<presence from='r@m.test/n'><x xmlns='http://jabber.org/protocol/muc#user'>\
         <status code='307'/></x></presence>",
        |p| assert!(!p.unwrap().was_kicked()),
    );
}

#[test]
fn banned_removed_and_nick_change() {
    let one = |code: &str, f: &dyn Fn(&MucPresence<'_>) -> bool| {
        let xml = format!(
            "<presence type='unavailable' from='r@m.test/n'>\
             <x xmlns='http://jabber.org/protocol/muc#user'>\
             <item affiliation='none' role='none' nick='new nick'/><status code='{code}'/></x></presence>"
        );
        muc(&xml, |p| f(&p.unwrap()))
    };
    assert!(one("301", &|p| p.was_banned()));
    for code in ["321", "322", "332"] {
        assert!(one(code, &|p| p.was_removed()), "{code}");
    }
    assert!(!one("303", &|p| p.was_removed()));
    assert!(one("303", &|p| p.new_nick() == Some("new nick")));
    assert!(one("110", &|p| p.new_nick().is_none()));
}

#[test]
fn room_destroyed_under_us() {
    let xml = "<presence type='unavailable' from='myroom@conference.example.com/focus'>\
        <x xmlns='http://jabber.org/protocol/muc#user'>\
        <item affiliation='none' role='none'/>\
        <destroy jid='other@conference.example.com'><reason>moved &lt;here&gt;</reason></destroy>\
        <status code='110'/></x></presence>";
    muc(xml, |p| {
        let p = p.unwrap();
        assert!(p.is_self());
        let d = p.room_destroyed().unwrap();
        assert_eq!(d.reason.as_deref(), Some("moved <here>"));
        assert_eq!(d.alternate.as_deref(), Some("other@conference.example.com"));
        let item = p.item.as_ref().unwrap();
        assert_eq!(
            (item.affiliation, item.role),
            (Affiliation::None, Role::None)
        );
    });
    // Destroy without reason or alternate.
    muc(
        "<presence type='unavailable' from='r@m.test/focus'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><destroy/></x></presence>",
        |p| {
            let p = p.unwrap();
            assert_eq!(
                p.room_destroyed(),
                Some(&Destroy {
                    reason: None,
                    alternate: None
                })
            );
        },
    );
}

#[test]
fn join_errors() {
    // Prosody: no muc <x/> in the error (peers.md).
    for (cond, want) in [
        ("not-allowed", Condition::NotAllowed),
        ("forbidden", Condition::Forbidden),
        ("registration-required", Condition::RegistrationRequired),
    ] {
        let xml = format!(
            "<presence type='error' from='myroom@conference.example.com/focus' \
             to='focus@auth.example.com/focus'><error type='cancel'>\
             <{cond} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
        );
        muc(&xml, |p| {
            let p = p.unwrap();
            assert_eq!(p.ty, PresenceType::Error);
            assert_eq!(p.error.as_ref().unwrap().condition, want, "{cond}");
            assert_eq!(p.nick.as_deref(), Some("focus"));
            assert_eq!(Occupant::from_presence(&p), None);
        });
    }
    // ejabberd echoes the muc <x/> of the join.
    muc(
        "<presence type='error' from='r@m.test/focus'><x xmlns='http://jabber.org/protocol/muc'/>\
         <error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>",
        |p| assert_eq!(p.unwrap().error.unwrap().condition, Condition::Forbidden),
    );
}

#[test]
fn what_is_not_a_muc_presence() {
    let not_muc = StanzaParseError::NotA("a MUC presence");
    // An occupant presence without muc#user.
    muc(
        "<presence from='r@m.test/n'><show>away</show></presence>",
        |p| assert_eq!(p.unwrap_err(), not_muc),
    );
    // muc#user in the wrong place or namespace does not count.
    muc(
        "<presence from='r@m.test/n'><x xmlns='http://jabber.org/protocol/muc'/></presence>",
        |p| assert_eq!(p.unwrap_err(), not_muc),
    );
    // Subscription traffic.
    muc(
        "<presence type='subscribe' from='r@m.test/n'><x xmlns='http://jabber.org/protocol/muc#user'/></presence>",
        |p| assert_eq!(p.unwrap_err(), not_muc),
    );
    muc("<presence/>", |p| {
        assert_eq!(p.unwrap_err(), StanzaParseError::MissingAttribute("from"))
    });
    muc(
        "<presence from='r@m.test/'><x xmlns='http://jabber.org/protocol/muc#user'/></presence>",
        |p| assert!(matches!(p.unwrap_err(), StanzaParseError::BadJid(_))),
    );
    muc(
        "<presence from='@m.test/n'><x xmlns='http://jabber.org/protocol/muc#user'/></presence>",
        |p| assert!(matches!(p.unwrap_err(), StanzaParseError::BadJid(_))),
    );
}

#[test]
fn escaped_addresses_are_owned_and_split() {
    let xml = "<presence from='r@m.test/a&amp;b/c'><x xmlns='http://jabber.org/protocol/muc#user'>\
        <item role='visitor' jid='u@h.test/&lt;r&gt;'/></x></presence>";
    muc(xml, |p| {
        let p = p.unwrap();
        assert_eq!(p.room, "r@m.test");
        assert_eq!(
            p.nick.as_deref(),
            Some("a&b/c"),
            "the nick keeps later slashes"
        );
        assert!(matches!(p.room, Cow::Owned(_)));
        let o = Occupant::from_presence(&p).unwrap();
        assert_eq!(o.nick(), "a&b/c");
        assert_eq!(o.real_jid.unwrap().resource(), Some("<r>"));
        assert_eq!(o.role, Role::Visitor);
    });
}

#[test]
fn odd_items_and_status_codes() {
    let xml = "<presence from='r@m.test/n'><x xmlns='http://jabber.org/protocol/muc#user'>\
        <status code='110'/><status code=' 100 '/><status code='110'/><status code='x'/>\
        <status/><status code='99999'/><status xmlns='urn:x' code='170'/>\
        <item affiliation='king' role='jester' jid='not a jid'/>\
        <item affiliation='owner' role='moderator'/>\
        <status code='1'/><status code='2'/><status code='3'/><status code='4'/>\
        <status code='5'/><status code='6'/><status code='7'/></x></presence>";
    muc(xml, |p| {
        let p = p.unwrap();
        // Deduplicated, junk skipped, capped at eight.
        assert_eq!(p.status_codes.as_slice(), [110, 100, 1, 2, 3, 4, 5, 6]);
        assert!(!p.status_codes.contains(170));
        assert_eq!(
            format!("{:?}", p.status_codes),
            "[110, 100, 1, 2, 3, 4, 5, 6]"
        );
        // The first item counts; unknown values read as none.
        let item = p.item.as_ref().unwrap();
        assert_eq!(
            (item.affiliation, item.role),
            (Affiliation::None, Role::None)
        );
        // An unusable real JID is left out, the occupant is still kept.
        let o = Occupant::from_presence(&p).unwrap();
        assert_eq!(o.real_jid, None);
    });
}

#[test]
fn repeated_presences_update_the_snapshot() {
    let mut o = occupant(FULL_PARTICIPANT).unwrap();
    let region_ptr = o.region.as_deref().unwrap().as_ptr();
    let jid_ptr = o.real_jid.as_ref().unwrap().as_str().as_ptr();

    // The same presence again: nothing changes and nothing is reallocated.
    let ch = update(&mut o, FULL_PARTICIPANT).unwrap();
    assert_eq!(ch, OccupantChanges::default());
    assert!(!ch.any());
    assert_eq!(o.region.as_deref().unwrap().as_ptr(), region_ptr);
    assert_eq!(o.real_jid.as_ref().unwrap().as_str().as_ptr(), jid_ptr);

    // Promoted to moderator, unmutes audio, mutes video, drops most
    // extensions, announces new caps.
    let ch = update(
        &mut o,
        "<presence from='myroom@conference.example.com/ab12cd34'>\
         <SourceInfo>{\"ab12cd34-a0\":{\"muted\":false},\"ab12cd34-v0\":{\"muted\":true}}</SourceInfo>\
         <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://jitsi.org/jitsi-meet' ver='new='/>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='owner' role='moderator' jid='a1b2c3@guest.example.com/x-7'/></x></presence>",
    )
    .unwrap();
    assert_eq!(
        ch,
        OccupantChanges {
            role: true,
            real_jid: false,
            audio_muted: true,
            video_muted: true,
            features: true,
            caps: true,
        }
    );
    assert_eq!(o.member_role(), MemberRole::Owner);
    assert_eq!((o.audio_muted, o.video_muted), (Some(false), Some(true)));
    assert_eq!(o.caps.as_ref().unwrap().ver(), "new=");
    // Per presence: gone.
    assert!(o.features.is_empty());
    assert_eq!(o.start_muted, None);
    assert_eq!(o.status_text, None);
    assert!(!o.diarize);
    // Sticky: kept.
    assert_eq!(o.region.as_deref(), Some("us-east-1"));
    assert_eq!(o.stats_id.as_deref(), Some("Name-abc"));
    assert_eq!(o.display_name.as_deref(), Some("Zoë & co"));
    assert!(o.real_jid.is_some());
    // First presence only.
    assert_eq!(o.video_codecs().collect::<Vec<_>>(), ["vp9", "vp8", "h264"]);

    // A new region replaces the old one; an empty one clears it.
    update(
        &mut o,
        "<presence from='myroom@conference.example.com/ab12cd34'>\
         <jitsi_participant_region> eu-west-2 </jitsi_participant_region>\
         <jitsi_participant_codecType>av1</jitsi_participant_codecType>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/></x></presence>",
    )
    .unwrap();
    assert_eq!(o.region.as_deref(), Some("eu-west-2"));
    assert_eq!(o.video_codecs().collect::<Vec<_>>(), ["vp9", "vp8", "h264"]);
    update(
        &mut o,
        "<presence from='myroom@conference.example.com/ab12cd34'>\
         <jitsi_participant_region/><x xmlns='http://jabber.org/protocol/muc#user'/></presence>",
    )
    .unwrap();
    assert_eq!(o.region, None);
    // No SourceInfo and no legacy elements: unknown, counted as muted; a
    // presence without an item keeps the role.
    assert_eq!((o.audio_muted, o.video_muted), (None, None));
    assert_eq!(o.member_role(), MemberRole::Owner);

    // A different real JID is reported; an equal one in another case is not.
    let other = "<presence from='myroom@conference.example.com/ab12cd34'>\
        <x xmlns='http://jabber.org/protocol/muc#user'>\
        <item affiliation='owner' role='moderator' jid='JID@Other.test/r'/></x></presence>";
    let ch = update(&mut o, other).unwrap();
    assert!(ch.real_jid && !ch.role);
    assert_eq!(o.real_jid.as_ref().unwrap().as_str(), "jid@other.test/r");
    assert!(!update(&mut o, other).unwrap().real_jid);
}

#[test]
fn mute_state_sources() {
    let base = |ext: &str| {
        format!(
            "<presence from='r@m.test/ep'>{ext}\
             <x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/></x></presence>"
        )
    };
    // Legacy elements (Jigasi), read like Java's parseBoolean.
    let o = occupant(&base(
        "<audiomuted>false</audiomuted><videomuted> TRUE </videomuted>",
    ))
    .unwrap();
    assert_eq!((o.audio_muted, o.video_muted), (Some(false), Some(true)));
    // As in Jicofo, anything but "true" is unmuted; absent is unknown.
    let o = occupant(&base("<audiomuted>maybe</audiomuted>")).unwrap();
    assert_eq!((o.audio_muted, o.video_muted), (Some(false), None));

    // SourceInfo with spaces and unknown keys.
    let o = occupant(&base(
        "<SourceInfo> { \"ep-v0\" : { \"muted\" : false , \"videoType\" : \"desktop\", \
         \"extra\": {\"deep\": [1, 2]} } } </SourceInfo>",
    ))
    .unwrap();
    assert_eq!((o.audio_muted, o.video_muted), (Some(true), Some(false)));

    // Malformed SourceInfo on the first presence: unknown, no panic; the
    // legacy elements are not consulted (SourceInfo was present).
    let mut o = occupant(&base(
        "<SourceInfo>{\"ep-a0\":{\"muted\":false}</SourceInfo><audiomuted>false</audiomuted>",
    ))
    .unwrap();
    assert_eq!((o.audio_muted, o.video_muted), (None, None));
    assert!(o.is_audio_muted());

    // A valid one, then a malformed one: the previous state is kept.
    let ch = update(
        &mut o,
        &base("<SourceInfo>{\"ep-a0\":{\"muted\":false}}</SourceInfo>"),
    )
    .unwrap();
    assert!(ch.audio_muted && !ch.video_muted);
    assert_eq!(o.audio_muted, Some(false));
    for bad in ["", "not json", "{\"ep-a0\":{\"videoType\":\"x\"}}", "[]"] {
        let ch = update(&mut o, &base(&format!("<SourceInfo>{bad}</SourceInfo>"))).unwrap();
        assert!(!ch.audio_muted, "{bad:?}");
        assert_eq!(o.audio_muted, Some(false), "{bad:?}");
    }
    // The JSON as XML text: entities are decoded first.
    update(
        &mut o,
        &base("<SourceInfo>{&quot;ep-a0&quot;:{&quot;muted&quot;:true}}</SourceInfo>"),
    )
    .unwrap();
    assert_eq!(o.audio_muted, Some(true));
}

#[test]
fn start_muted_and_codec_variants() {
    let base = |ext: &str| {
        format!(
            "<presence from='r@m.test/ep'>{ext}\
             <x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/></x></presence>"
        )
    };
    let o = occupant(&base(
        "<startmuted xmlns='http://jitsi.org/jitmeet/start-muted' video='True'/>",
    ))
    .unwrap();
    assert_eq!(o.start_muted, Some((false, true)));
    // Wrong namespace: not ours.
    let o = occupant(&base("<startmuted audio='true' video='true'/>")).unwrap();
    assert_eq!(o.start_muted, None);

    for (ext, want) in [
        (
            "<jitsi_participant_codecList>h264</jitsi_participant_codecList>",
            vec!["h264", "vp8"],
        ),
        (
            "<jitsi_participant_codecList>AV1,VP8</jitsi_participant_codecList>",
            vec!["av1", "vp8"],
        ),
        ("<jitsi_participant_codecList/>", vec!["vp8"]),
        (
            "<jitsi_participant_codecType>VP9</jitsi_participant_codecType>",
            vec!["vp9", "vp8"],
        ),
        (
            "<jitsi_participant_codecType>vp8</jitsi_participant_codecType>",
            vec!["vp8"],
        ),
        (
            "<jitsi_participant_codecType>vp9</jitsi_participant_codecType>\
             <jitsi_participant_codecList>h264,vp8</jitsi_participant_codecList>",
            vec!["h264", "vp8"],
        ),
        ("", vec![]),
    ] {
        let o = occupant(&base(ext)).unwrap();
        assert_eq!(o.video_codecs().collect::<Vec<_>>(), want, "{ext}");
    }
}

#[test]
fn switch_room_status() {
    let mut o = occupant(FULL_PARTICIPANT).unwrap();
    update(
        &mut o,
        "<presence type='unavailable' from='myroom@conference.example.com/ab12cd34'>\
         <status>switch_room</status><x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='none' role='none'/></x></presence>",
    )
    .unwrap();
    assert!(o.is_switching_room());
    assert_eq!(o.role, Role::None);
}

#[test]
fn updates_from_someone_else_are_refused() {
    let mut o = occupant(FULL_PARTICIPANT).unwrap();
    let before = o.clone();
    for xml in [
        "<presence from='myroom@conference.example.com/other'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='moderator'/></x></presence>",
        "<presence from='otherroom@conference.example.com/ab12cd34'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='moderator'/></x></presence>",
        "<presence from='myroom@conference.example.com/AB12CD34'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='moderator'/></x></presence>",
        "<presence from='myroom@conference.example.com'/>",
        "<presence type='error' from='myroom@conference.example.com/ab12cd34'/>",
    ] {
        assert_eq!(update(&mut o, xml), None, "{xml}");
    }
    assert_eq!(o, before);
    // The room part compares as the canonical form does.
    let ch = update(
        &mut o,
        "<presence from='MyRoom@Conference.Example.com./ab12cd34'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='moderator'/></x></presence>",
    )
    .unwrap();
    assert!(ch.role);
}

#[test]
fn member_role_mapping_and_order() {
    use Affiliation as A;
    use MemberRole as M;
    use Role as R;
    assert_eq!(M::from(A::Owner, R::None), M::Owner);
    assert_eq!(M::from(A::Owner, R::Visitor), M::Owner);
    assert_eq!(M::from(A::Admin, R::Participant), M::Moderator);
    assert_eq!(M::from(A::Member, R::Moderator), M::Moderator);
    assert_eq!(M::from(A::None, R::Participant), M::Participant);
    assert_eq!(M::from(A::Member, R::Visitor), M::Visitor);
    assert_eq!(M::from(A::Outcast, R::None), M::Visitor);

    assert!(M::Owner > M::Moderator && M::Moderator > M::Participant);
    assert!(M::Participant > M::Visitor);
    assert!(M::Owner.has_moderator_rights() && M::Moderator.has_moderator_rights());
    assert!(!M::Participant.has_moderator_rights() && !M::Visitor.has_moderator_rights());
    assert!(M::Owner.has_owner_rights() && !M::Moderator.has_owner_rights());
    assert_eq!(M::Moderator.name(), "moderator");

    assert!(R::Moderator > R::Participant && R::Participant > R::Visitor && R::Visitor > R::None);
    assert!(A::Owner > A::Admin && A::Admin > A::Member && A::Member > A::None);
    assert!(A::None > A::Outcast);
    assert!(A::Admin.is_admin_or_higher() && A::Owner.is_admin_or_higher());
    assert!(!A::Member.is_admin_or_higher() && A::Owner.is_owner() && !A::Admin.is_owner());
    assert!(R::Moderator.is_moderator() && !R::Participant.is_moderator());
}

#[test]
fn role_and_affiliation_names_round_trip() {
    for r in [
        Role::None,
        Role::Visitor,
        Role::Participant,
        Role::Moderator,
    ] {
        assert_eq!(Role::from_name(r.name()), Some(r));
    }
    for a in [
        Affiliation::Outcast,
        Affiliation::None,
        Affiliation::Member,
        Affiliation::Admin,
        Affiliation::Owner,
    ] {
        assert_eq!(Affiliation::from_name(a.name()), Some(a));
    }
    assert_eq!(Role::from_name("Moderator"), None);
    assert_eq!(Affiliation::from_name(""), None);
}

#[test]
fn caps_pack_and_unpack() {
    let c = Caps::new("n", "v=", "");
    assert_eq!((c.node(), c.ver(), c.hash()), ("n", "v=", None));
    let c = Caps::new("", "ver", "sha-1");
    assert_eq!((c.node(), c.ver(), c.hash()), ("", "ver", Some("sha-1")));
    assert_eq!(
        format!("{c:?}"),
        "Caps { node: \"\", ver: \"ver\", hash: Some(\"sha-1\") }"
    );
    // <c> without ver is not caps.
    let o = occupant(
        "<presence from='r@m.test/n'><c xmlns='http://jabber.org/protocol/caps' node='x'/>\
         <x xmlns='http://jabber.org/protocol/muc#user'/></presence>",
    )
    .unwrap();
    assert_eq!(o.caps, None);
}

#[test]
fn the_snapshot_stays_compact() {
    // 2 JIDs (24 each), 6 boxed strings (16 each), caps (24), the features
    // slice (16) and 8 bytes of flags. Growing it is a decision, not an
    // accident.
    #[cfg(target_pointer_width = "64")]
    assert_eq!(std::mem::size_of::<Occupant>(), 176);
    assert!(std::mem::size_of::<StatusCodes>() <= 18);
}

// --- writers ---------------------------------------------------------------

#[test]
fn writes_join_leave_and_update() {
    let mut out = Vec::new();
    write_join(&mut out, "myroom@conference.example.com/focus", |_| {});
    assert_eq!(
        s(out),
        "<presence to='myroom@conference.example.com/focus'>\
         <x xmlns='http://jabber.org/protocol/muc'/></presence>"
    );

    let mut out = Vec::new();
    write_join(&mut out, "r@m.test/focus", |w| {
        write_focus_extensions(
            w,
            Some("a1b2"),
            "1.0-1",
            &[("support-terminate-restart", "true")],
        );
    });
    assert_eq!(
        s(out),
        "<presence to='r@m.test/focus'><x xmlns='http://jabber.org/protocol/muc'/>\
         <etherpad xmlns='http://jitsi.org/jitmeet/etherpad'>a1b2</etherpad>\
         <versions xmlns='http://jitsi.org/jitmeet'><component name='focus'>1.0-1</component></versions>\
         <conference-properties xmlns='http://jitsi.org/protocol/focus'>\
         <property key='support-terminate-restart' value='true'/></conference-properties></presence>"
    );

    let mut out = Vec::new();
    write_leave(&mut out, "r@m.test/focus");
    assert_eq!(s(out), "<presence type='unavailable' to='r@m.test/focus'/>");

    let mut out = Vec::new();
    write_presence_update(&mut out, "r@m.test/focus", |w| {
        write_focus_extensions(
            w,
            None,
            "1.0",
            &[("bridge-count", "2"), ("created-ms", "1700000000000")],
        );
        write_bridge_not_available(w);
    });
    assert_eq!(
        s(out),
        "<presence to='r@m.test/focus'>\
         <versions xmlns='http://jitsi.org/jitmeet'><component name='focus'>1.0</component></versions>\
         <conference-properties xmlns='http://jitsi.org/protocol/focus'>\
         <property key='bridge-count' value='2'/><property key='created-ms' value='1700000000000'/>\
         </conference-properties>\
         <bridgeNotAvailable xmlns='http://jitsi.org/protocol/focus'/></presence>"
    );

    // No properties: no element.
    let mut out = Vec::new();
    write_focus_extensions(&mut XmlWriter::new(&mut out), None, "v", &[]);
    assert_eq!(
        s(out),
        "<versions xmlns='http://jitsi.org/jitmeet'><component name='focus'>v</component></versions>"
    );
}

#[test]
fn writes_the_owner_form_exchange_of_section_2_2() {
    let mut out = Vec::new();
    write_owner_form_request(&mut out, "m1", ROOM);
    assert_eq!(
        s(out),
        "<iq type='get' id='m1' to='myroom@conference.example.com'>\
         <query xmlns='http://jabber.org/protocol/muc#owner'/></iq>"
    );

    let mut out = Vec::new();
    write_owner_form_submit(&mut out, "m2", ROOM, &[("muc#roomconfig_whois", "anyone")]);
    assert_eq!(
        s(out),
        "<iq type='set' id='m2' to='myroom@conference.example.com'>\
         <query xmlns='http://jabber.org/protocol/muc#owner'>\
         <x xmlns='jabber:x:data' type='submit'>\
         <field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
         <field var='muc#roomconfig_whois'><value>anyone</value></field>\
         </x></query></iq>"
    );
}

#[test]
fn reads_the_owner_form_from_the_result() {
    let xml = "<iq type='result' id='m1' from='myroom@conference.example.com'>\
        <query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='form'>\
        <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
        <field var='muc#roominfo_meetingId'><value>5c3a-77</value></field></x></query></iq>";
    let mut parser = Parser::new();
    let doc = parser.parse(xml.as_bytes(), ns::CLIENT).unwrap();
    let iq = crate::stanza::Iq::parse(doc.root()).unwrap();
    let form = owner_form(iq.payload.unwrap()).unwrap();
    assert_eq!(form.form_type(), Some(ns::MUC_ROOMCONFIG));
    assert_eq!(form.field("muc#roominfo_meetingId"), Some("5c3a-77"));
    assert_eq!(
        owner_form_value(iq.payload.unwrap(), "muc#roominfo_meetingId").as_deref(),
        Some("5c3a-77")
    );
    assert_eq!(owner_form_value(iq.payload.unwrap(), "absent"), None);

    let doc = parser
        .parse(b"<query xmlns='http://jabber.org/protocol/muc#admin'><x xmlns='jabber:x:data'/></query>", ns::CLIENT)
        .unwrap();
    assert_eq!(owner_form(doc.root()), None);
    assert_eq!(owner_form_value(doc.root(), "muc#roominfo_meetingId"), None);
}

#[test]
fn grants_owner_with_a_bare_jid() {
    let mut out = Vec::new();
    write_grant(
        &mut out,
        "g1",
        ROOM,
        "a1b2c3@guest.example.com",
        Affiliation::Owner,
    );
    assert_eq!(
        s(out),
        "<iq type='set' id='g1' to='myroom@conference.example.com'>\
         <query xmlns='http://jabber.org/protocol/muc#admin'>\
         <item affiliation='owner' jid='a1b2c3@guest.example.com'/></query></iq>"
    );
    // A full JID loses its resource (Prosody: jid-malformed otherwise).
    let mut out = Vec::new();
    write_grant(
        &mut out,
        "g2",
        "r@m.test",
        "u@h.test/res/x",
        Affiliation::Member,
    );
    assert_eq!(
        s(out),
        "<iq type='set' id='g2' to='r@m.test'>\
         <query xmlns='http://jabber.org/protocol/muc#admin'>\
         <item affiliation='member' jid='u@h.test'/></query></iq>"
    );
}

#[test]
fn written_join_and_self_presence_round_trip() {
    // The join we write is not itself a MUC presence (no muc#user), so the
    // parser does not mistake an echo of it for an occupant.
    let mut out = Vec::new();
    write_join(&mut out, "r@m.test/focus", |_| {});
    let mut parser = Parser::new();
    let doc = parser.parse(&out, ns::CLIENT).unwrap();
    let mut p = Presence::parse(doc.root()).unwrap();
    p.from = p.to.clone();
    assert_eq!(
        MucPresence::parse(&p).unwrap_err(),
        StanzaParseError::NotA("a MUC presence")
    );
}
