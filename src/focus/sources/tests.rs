//! The settings and the sender limit.

use super::*;
use crate::stanza::sources::Source;

fn props(pairs: &[(&str, &str)]) -> Properties {
    let mut p = Properties::new();
    for (k, v) in pairs {
        p.set(*k, *v);
    }
    p
}

#[test]
fn defaults() {
    let c = SourceConfig::from_props(&Properties::new()).unwrap();
    assert_eq!(c, SourceConfig::default());
    assert_eq!(c.max_ssrcs_per_user, 20);
    assert_eq!(c.max_ssrc_groups_per_user, 20);
    assert_eq!(c.max_audio_senders, 999_999);
    assert_eq!(c.max_video_senders, 999_999);
    assert!(c.strip_simulcast && c.use_ssrc_rewriting);
    assert_eq!(c.signaling_delay(0), Duration::ZERO);
    assert_eq!(c.signaling_delay(10_000), Duration::ZERO);
}

#[test]
fn legacy_ssrc_limit_wins_and_groups_follow_the_current_name_only() {
    let c = SourceConfig::from_props(&props(&[
        ("org.jitsi.jicofo.MAX_SSRC_PER_USER", "8"),
        ("jicofo.conference.max-ssrcs-per-user", "30"),
    ]))
    .unwrap();
    assert_eq!(c.max_ssrcs_per_user, 8);
    // The groups default refers to the jicofo.conf value, not the legacy one.
    assert_eq!(c.max_ssrc_groups_per_user, 30);

    let c =
        SourceConfig::from_props(&props(&[("org.jitsi.jicofo.MAX_SSRC_PER_USER", "8")])).unwrap();
    assert_eq!((c.max_ssrcs_per_user, c.max_ssrc_groups_per_user), (8, 20));

    let c = SourceConfig::from_props(&props(&[
        ("jicofo.conference.max-ssrcs-per-user", "30"),
        ("jicofo.conference.max-ssrc-groups-per-user", "4"),
        ("jicofo.conference.max-audio-senders", "10"),
        ("jicofo.conference.max-video-senders", "3"),
        ("jicofo.conference.strip-simulcast", "false"),
        ("jicofo.conference.use-ssrc-rewriting", "FALSE"),
    ]))
    .unwrap();
    assert_eq!(c.max_ssrcs_per_user, 30);
    assert_eq!(c.max_ssrc_groups_per_user, 4);
    assert_eq!((c.max_audio_senders, c.max_video_senders), (10, 3));
    assert!(!c.strip_simulcast && !c.use_ssrc_rewriting);

    for (k, v) in [
        ("jicofo.conference.max-ssrcs-per-user", "-1"),
        ("jicofo.conference.max-video-senders", "lots"),
        ("jicofo.conference.strip-simulcast", "yes"),
    ] {
        assert!(
            SourceConfig::from_props(&props(&[(k, v)])).is_err(),
            "{k}={v}"
        );
    }
}

#[test]
fn signaling_delays_by_conference_size() {
    let flat = props(&[
        ("jicofo.conference.source-signaling-delays.50", "500"),
        ("jicofo.conference.source-signaling-delays.100", "1 s"),
    ]);
    let whole = props(&[(
        "jicofo.conference.source-signaling-delays",
        "{ 50 = 500, \"100\": 1000 }",
    )]);
    for p in [flat, whole] {
        let c = SourceConfig::from_props(&p).unwrap();
        assert_eq!(c.signaling_delay(49), Duration::ZERO);
        assert_eq!(c.signaling_delay(50), Duration::from_millis(500));
        assert_eq!(c.signaling_delay(99), Duration::from_millis(500));
        assert_eq!(c.signaling_delay(100), Duration::from_secs(1));
        assert_eq!(c.signaling_delay(5000), Duration::from_secs(1));
    }
    // A per-size key overrides the same size of the object.
    let c = SourceConfig::from_props(&props(&[
        (
            "jicofo.conference.source-signaling-delays",
            "{\n 50 = 500\n 10 = 20 }",
        ),
        ("jicofo.conference.source-signaling-delays.50", "700"),
    ]))
    .unwrap();
    assert_eq!(c.signaling_delay(10), Duration::from_millis(20));
    assert_eq!(c.signaling_delay(60), Duration::from_millis(700));
    for (k, v) in [
        ("jicofo.conference.source-signaling-delays.many", "500"),
        ("jicofo.conference.source-signaling-delays.50", "soon"),
        ("jicofo.conference.source-signaling-delays", "50 = 500"),
        ("jicofo.conference.source-signaling-delays", "{ 50 }"),
        ("jicofo.conference.source-signaling-delays", "{ x = 5 }"),
    ] {
        assert!(
            SourceConfig::from_props(&props(&[(k, v)])).is_err(),
            "{k}={v}"
        );
    }
}

#[test]
fn sender_limits_refuse_at_the_limit() {
    let c = SourceConfig {
        max_audio_senders: 2,
        max_video_senders: 1,
        ..SourceConfig::default()
    };
    let audio = EndpointSourceSet {
        sources: vec![Source::new(1, MediaType::Audio)],
        groups: vec![],
    };
    let both = EndpointSourceSet {
        sources: vec![
            Source::new(1, MediaType::Audio),
            Source::new(2, MediaType::Video),
        ],
        groups: vec![],
    };
    assert_eq!(
        c.check_senders(&audio, 1, 5),
        Ok(()),
        "video is not asked for"
    );
    assert_eq!(
        c.check_senders(&audio, 2, 0),
        Err(SourceError::SenderLimit {
            audio: true,
            video: false
        })
    );
    assert_eq!(
        c.check_senders(&both, 1, 1),
        Err(SourceError::SenderLimit {
            audio: false,
            video: true
        })
    );
    let err = c.check_senders(&both, 2, 1).unwrap_err();
    assert_eq!(err.condition(), Condition::ResourceConstraint);
    assert_eq!(err.to_string(), "sender limit reached for audio video");
    assert_eq!(c.check_senders(&both, 1, 0), Ok(()));
    assert_eq!(c.check_senders(&EndpointSourceSet::new(), 9, 9), Ok(()));
}
