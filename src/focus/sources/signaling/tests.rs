//! Ports of Jicofo's `SourceSignalingTest`, then the merge rules, the
//! filters, SSRC rewriting and forgetting a departed owner.

use super::*;
use crate::stanza::sources::{FID, SIM, Source, Ssrc, SsrcGroup};
use MediaType::{Audio, Video};

const E1: &str = "endpoint1";
const E2: &str = "endpoint2";
const E3: &str = "endpoint3";

fn set(sources: Vec<Source>, groups: Vec<SsrcGroup>) -> EndpointSourceSet {
    EndpointSourceSet { sources, groups }
}
fn one(owner: &str, sources: Vec<Source>) -> ConferenceSourceMap {
    let mut m = ConferenceSourceMap::new();
    m.add(owner, &set(sources, vec![]));
    m
}
fn s1() -> ConferenceSourceMap {
    one(E1, vec![Source::new(1, Audio), Source::new(11, Video)])
}
fn s2() -> ConferenceSourceMap {
    one(E2, vec![Source::new(2, Audio), Source::new(22, Video)])
}
fn s2new() -> ConferenceSourceMap {
    one(E2, vec![Source::new(222, Audio), Source::new(2222, Video)])
}
fn s3() -> ConferenceSourceMap {
    one(E3, vec![Source::new(3, Audio)])
}
fn plus(maps: &[ConferenceSourceMap]) -> ConferenceSourceMap {
    let mut out = ConferenceSourceMap::new();
    for m in maps {
        out.add_map(m);
    }
    out
}
fn queue() -> SourceSignaling {
    SourceSignaling::new(SignalingOptions::default())
}
/// An update with only an add.
fn added(map: ConferenceSourceMap) -> SourceUpdate {
    SourceUpdate {
        remove: ConferenceSourceMap::new(),
        add: map,
    }
}
/// An update with only a remove.
fn removed(map: ConferenceSourceMap) -> SourceUpdate {
    SourceUpdate {
        remove: map,
        add: ConferenceSourceMap::new(),
    }
}

// ------------------------------------------------------------- ports

#[test]
fn queueing_remote_sources_nothing_at_first() {
    let mut q = queue();
    assert!(!q.is_dirty());
    assert!(q.take().is_empty());
}

#[test]
fn queueing_remote_sources_resetting() {
    let mut q = queue();
    q.add_map(&s1());
    assert!(q.is_dirty());
    assert!(q.reset(&ConferenceSourceMap::new()).is_empty());
    assert!(!q.is_dirty());
    assert!(q.take().is_empty());

    q.add_map(&s1());
    assert_eq!(q.reset(&s2()), s2());
    assert!(q.take().is_empty());
    assert_eq!(q.signaled(), s2());
}

#[test]
fn queueing_remote_sources_adding_a_single_source() {
    let mut q = queue();
    q.add_map(&s1());
    assert_eq!(q.take(), added(s1()));
    assert!(q.take().is_empty(), "sent once");
}

#[test]
fn queueing_remote_sources_adding_multiple_sources() {
    let mut q = queue();
    q.add_map(&s1());
    q.add_map(&s2());
    assert_eq!(q.take(), added(plus(&[s1(), s2()])));
}

#[test]
fn queueing_remote_sources_adding_multiple_sources_in_multiple_api_calls() {
    let mut q = queue();
    q.add_map(&s1());
    q.add_map(&s2());
    q.add_map(&s2new());
    assert_eq!(q.take(), added(plus(&[s1(), s2(), s2new()])));
}

#[test]
fn queueing_remote_sources_adding_and_removing_sources() {
    let mut q = queue();
    q.add_map(&s1());
    q.add_map(&s2());
    q.add_map(&s2new());
    q.remove_map(&s2new());
    assert_eq!(q.take(), added(plus(&[s1(), s2()])));
}

#[test]
fn queueing_remote_sources_adding_removing_then_adding_again() {
    let mut q = queue();
    q.add_map(&s1());
    q.add_map(&s2());
    q.add_map(&s2new());
    q.remove_map(&s2new());
    q.add_map(&s3());
    assert_eq!(q.take(), added(plus(&[s1(), s2(), s3()])));
}

#[test]
fn queueing_remote_sources_adding_and_removing_the_same_source() {
    let mut q = queue();
    q.add_map(&s1());
    q.remove_map(&s1());
    assert!(q.is_dirty());
    assert!(q.take().is_empty());
    assert!(!q.is_dirty());
}

#[test]
fn filtering() {
    let mut q = SourceSignaling::new(SignalingOptions {
        audio: true,
        video: false,
        strip_simulcast: true,
        ssrc_rewriting: false,
    });
    assert_eq!(
        q.reset(&plus(&[s1(), s2()])),
        plus(&[
            one(E1, vec![Source::new(1, Audio)]),
            one(E2, vec![Source::new(2, Audio)]),
        ])
    );
    q.add_map(&s2new());
    assert_eq!(q.take(), added(one(E2, vec![Source::new(222, Audio)])));

    q.remove_map(&s1());
    assert_eq!(q.take(), removed(one(E1, vec![Source::new(1, Audio)])));

    q.add_map(&s1());
    q.remove_map(&s1());
    assert!(q.take().is_empty());

    q.remove_map(&s2());
    q.add_map(&s2());
    assert!(q.take().is_empty());
}

// ------------------------------------------------------ merge rules

#[test]
fn a_remove_of_what_was_sent() {
    let mut q = queue();
    q.add_map(&plus(&[s1(), s2()]));
    q.take();
    q.remove(E1, &set(vec![Source::new(11, Video)], vec![]));
    assert_eq!(q.take(), removed(one(E1, vec![Source::new(11, Video)])));
    assert_eq!(
        q.signaled(),
        plus(&[one(E1, vec![Source::new(1, Audio)]), s2()])
    );
}

#[test]
fn a_remove_then_an_identical_re_add_sends_nothing() {
    let mut q = queue();
    q.add_map(&s1());
    q.take();
    q.remove_map(&s1());
    q.add_map(&s1());
    assert!(q.take().is_empty());
    assert_eq!(q.signaled(), s1());
}

#[test]
fn a_source_re_added_with_other_data_is_removed_and_added() {
    let mut q = queue();
    let old = Source::new(5, Video).with_msid("old").with_name("e1-v0");
    let new = Source::new(5, Video).with_msid("new").with_name("e1-v0");
    q.add(E1, &set(vec![old.clone()], vec![]));
    q.take();
    // Removed by SSRC alone, then back with another msid.
    q.remove(E1, &set(vec![Source::new(5, Video)], vec![]));
    q.add(E1, &set(vec![new.clone()], vec![]));
    assert_eq!(
        q.take(),
        SourceUpdate {
            remove: one(E1, vec![old]),
            add: one(E1, vec![new]),
        }
    );
}

#[test]
fn adds_and_removes_of_several_owners_net_out_in_one_flush() {
    let mut q = queue();
    q.reset(&plus(&[s1(), s2()]));
    q.remove_map(&s1()); // sent before: a remove
    q.add_map(&s3()); // new: an add
    q.remove_map(&s2());
    q.add_map(&s2new()); // e2 swaps sources: both
    q.add_map(&s2()); // and gets the old ones back: no change for them
    assert_eq!(
        q.take(),
        SourceUpdate {
            remove: s1(),
            add: plus(&[s2new(), s3()]),
        }
    );
}

#[test]
fn groups_travel_with_their_sources() {
    let mut q = SourceSignaling::new(SignalingOptions {
        strip_simulcast: false,
        ..SignalingOptions::default()
    });
    let cam = set(
        vec![
            Source::new(1, Video).with_msid("m"),
            Source::new(2, Video).with_msid("m"),
        ],
        vec![SsrcGroup::new(FID, Video, &[1, 2])],
    );
    q.add(E1, &cam);
    let mut want = ConferenceSourceMap::new();
    want.add(E1, &cam);
    assert_eq!(q.take(), added(want.clone()));
    // What the validating map reports removed includes the group.
    q.remove(E1, &cam);
    assert_eq!(q.take(), removed(want));
    assert!(q.signaled().is_empty());
}

// ---------------------------------------------------------- filters

/// Three simulcast layers with RTX, as the current client sends them.
fn simulcast_camera() -> EndpointSourceSet {
    let mut s = EndpointSourceSet::new();
    for ssrc in 1..=6 {
        s.add_source(Source::new(ssrc, Video).with_msid("m"));
    }
    s.add_group(SsrcGroup::new(SIM, Video, &[1, 2, 3]));
    for i in 1..=3 {
        s.add_group(SsrcGroup::new(FID, Video, &[i, i + 3]));
    }
    s
}

#[test]
fn strip_simulcast_sends_the_first_layer_and_its_rtx() {
    let mut q = queue();
    q.add(E1, &simulcast_camera());
    let mut want = ConferenceSourceMap::new();
    want.add(E1, &simulcast_camera().strip_simulcast());
    assert_eq!(
        want.get(E1).unwrap().ssrcs_of(Video).collect::<Vec<_>>(),
        vec![Ssrc(1), Ssrc(4)]
    );
    assert_eq!(q.take(), added(want.clone()));
    // The sender drops the camera: the receiver is told to remove only
    // what it was told.
    q.remove(E1, &simulcast_camera());
    assert_eq!(q.take(), removed(want));

    // Without stripping, all of it.
    let mut q = SourceSignaling::new(SignalingOptions {
        strip_simulcast: false,
        ..SignalingOptions::default()
    });
    q.add(E1, &simulcast_camera());
    let take = q.take();
    assert_eq!(take.add.get(E1), Some(&simulcast_camera()));
}

#[test]
fn video_only_receiver_drops_audio_only_owners() {
    let mut q = SourceSignaling::new(SignalingOptions {
        audio: false,
        ..SignalingOptions::default()
    });
    q.add_map(&s3()); // audio only
    q.add_map(&s1());
    assert_eq!(q.take(), added(one(E1, vec![Source::new(11, Video)])));
}

#[test]
fn an_owner_without_a_supported_source_loses_its_groups_too() {
    let mut q = SourceSignaling::new(SignalingOptions {
        video: false,
        strip_simulcast: false,
        ..SignalingOptions::default()
    });
    // Only video sources, and a (bogus) audio group: nothing at all.
    q.add(
        E1,
        &set(
            vec![Source::new(1, Video)],
            vec![SsrcGroup::new(FID, Audio, &[8, 9])],
        ),
    );
    assert!(q.take().is_empty());
    // With an audio source, the audio group comes along, video does not.
    q.add(
        E2,
        &set(
            vec![Source::new(8, Audio), Source::new(9, Video)],
            vec![
                SsrcGroup::new(FID, Audio, &[8, 10]),
                SsrcGroup::new(FID, Video, &[9, 11]),
            ],
        ),
    );
    let take = q.take();
    assert_eq!(
        take.add.get(E2),
        Some(&set(
            vec![Source::new(8, Audio)],
            vec![SsrcGroup::new(FID, Audio, &[8, 10])]
        ))
    );
    assert_eq!(take.add.len(), 1);
}

// ------------------------------------------- rewriting and departures

#[test]
fn nothing_is_queued_for_a_receiver_using_ssrc_rewriting() {
    let mut q = SourceSignaling::new(SignalingOptions {
        ssrc_rewriting: true,
        ..SignalingOptions::default()
    });
    q.add_map(&s1());
    q.remove_map(&s2());
    assert!(!q.is_dirty());
    assert!(q.take().is_empty());
    // The offer still carries what the caller puts in it (the bridge's
    // feedback sources).
    let jvb = one("jvb", vec![Source::new(9, Audio)]);
    assert_eq!(q.reset(&jvb), jvb);
    assert!(q.take().is_empty());
}

#[test]
fn a_departed_owner_is_forgotten_without_a_remove() {
    let mut q = queue();
    q.add_map(&s1());
    q.take();
    q.add_map(&s2()); // queued, not sent yet
    q.forget_owner(E1);
    q.forget_owner(E2);
    assert!(
        q.take().is_empty(),
        "neither a remove for e1 nor an add for e2"
    );
    assert!(q.signaled().is_empty());
}

#[test]
fn a_reinvited_owner_is_removed_with_a_remove() {
    let mut q = queue();
    q.add_map(&plus(&[s1(), s2()]));
    q.take();
    // Moved to another bridge: its sources are removed and signalled;
    // re-added when its new session is accepted.
    q.remove_map(&s1());
    assert_eq!(q.take(), removed(s1()));
    q.add_map(&s1());
    assert_eq!(q.take(), added(s1()));
}

#[test]
fn empty_sets_do_not_dirty_the_queue() {
    let mut q = queue();
    q.add(E1, &EndpointSourceSet::new());
    q.remove(E1, &EndpointSourceSet::new());
    assert!(!q.is_dirty());
    assert_eq!(q.options(), &SignalingOptions::default());
}
