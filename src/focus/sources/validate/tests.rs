//! Ports of Jicofo's `ValidatingConferenceSourceMapTest` (one test per
//! leaf context, each on a fresh map, as Kotest's `InstancePerLeaf` ran
//! them), then every rule accepted and refused, with the map compared
//! before and after each refusal.

use super::*;
use crate::stanza::Condition;
use crate::util::rng::Rng;
use MediaType::{Audio, Video};

const JID1: &str = "jid1";
const JID2: &str = "jid2";
const MSID: &str = "msid";

fn v(ssrc: u32) -> Source {
    Source::new(ssrc, Video).with_msid(MSID)
}
fn s7() -> Source {
    Source::new(7, Audio)
}
fn sim() -> SsrcGroup {
    SsrcGroup::new(SIM, Video, &[1, 2, 3])
}
fn fid(a: u32, b: u32) -> SsrcGroup {
    SsrcGroup::new(FID, Video, &[a, b])
}
fn set(sources: Vec<Source>, groups: Vec<SsrcGroup>) -> EndpointSourceSet {
    EndpointSourceSet { sources, groups }
}
fn video_sources() -> Vec<Source> {
    (1..=6).map(v).collect()
}
fn sources() -> Vec<Source> {
    let mut s = video_sources();
    s.push(s7());
    s
}
fn groups() -> Vec<SsrcGroup> {
    vec![sim(), fid(1, 4), fid(2, 5), fid(3, 6)]
}
/// VP8 with three simulcast layers, each with RTX, plus audio.
fn source_set() -> EndpointSourceSet {
    set(sources(), groups())
}
fn map() -> ValidatingSourceMap {
    ValidatingSourceMap::new(20, 20)
}

/// Adds, expecting success, and checks the indexes.
fn add_ok(m: &mut ValidatingSourceMap, owner: &str, req: &EndpointSourceSet) -> EndpointSourceSet {
    let r = m.try_add(owner, req).expect("accepted");
    m.assert_consistent();
    r
}

/// Adds, expecting a refusal that leaves the map as it was.
fn add_refused(m: &mut ValidatingSourceMap, owner: &str, req: &EndpointSourceSet) -> SourceError {
    let before = m.clone();
    let err = m.try_add(owner, req).expect_err("refused");
    assert_eq!(*m, before, "a refused add changed the map ({err})");
    m.assert_consistent();
    err
}

fn remove_ok(
    m: &mut ValidatingSourceMap,
    owner: &str,
    req: &EndpointSourceSet,
) -> EndpointSourceSet {
    let r = m.try_remove(owner, req).expect("accepted");
    m.assert_consistent();
    r
}

fn remove_refused(
    m: &mut ValidatingSourceMap,
    owner: &str,
    req: &EndpointSourceSet,
) -> SourceError {
    let before = m.clone();
    let err = m.try_remove(owner, req).expect_err("refused");
    assert_eq!(*m, before, "a refused remove changed the map ({err})");
    m.assert_consistent();
    err
}

// ------------------------------------------------------- adding (ports)

#[test]
fn adding_empty_sources() {
    let mut m = map();
    assert!(add_ok(&mut m, JID1, &EndpointSourceSet::new()).is_empty());
    assert!(m.is_empty());
}

#[test]
fn standard_vp8_signaling_signaled_all_together() {
    let mut m = map();
    assert_eq!(add_ok(&mut m, JID1, &source_set()), source_set());
    assert_eq!(m.get(JID1), Some(&source_set()));
}

#[test]
fn standard_vp8_signaling_signaled_with_video_first() {
    let mut m = map();
    let video = set(video_sources(), groups());
    assert_eq!(add_ok(&mut m, JID1, &video), video);
    let audio = set(vec![s7()], vec![]);
    assert_eq!(add_ok(&mut m, JID1, &audio), audio);
    assert_eq!(m.get(JID1), Some(&source_set()));
}

#[test]
fn standard_vp8_signaling_signaled_with_audio_first() {
    let mut m = map();
    let audio = set(vec![s7()], vec![]);
    assert_eq!(add_ok(&mut m, JID1, &audio), audio);
    let video = set(video_sources(), groups());
    assert_eq!(add_ok(&mut m, JID1, &video), video);
    assert_eq!(m.get(JID1), Some(&source_set()));
}

#[test]
fn standard_vp8_signaling_adding_a_second_endpoint() {
    let mut m = map();
    let second = set(
        vec![
            Source::new(101, Video).with_msid("msid2"),
            Source::new(102, Video).with_msid("msid2"),
            Source::new(103, Audio),
        ],
        vec![fid(101, 102)],
    );
    assert_eq!(add_ok(&mut m, JID1, &source_set()), source_set());
    assert_eq!(add_ok(&mut m, JID2, &second), second);
    assert_eq!(m.len(), 2);
    assert_eq!(m.owner_of(Ssrc(102)), Some(JID2));
    assert_eq!(m.owner_of(Ssrc(7)), Some(JID1));
}

/// Jicofo also tries −1 and 2^32; neither fits an `Ssrc`, and the Jingle
/// parser refuses both (stanza tests). 0 is the one left for the policy.
#[test]
fn invalid_ssrcs() {
    let mut m = map();
    let err = add_refused(&mut m, JID1, &set(vec![Source::new(0, Audio)], vec![]));
    assert_eq!(err, SourceError::InvalidSsrc(Ssrc(0)));
    // The highest SSRC is fine.
    add_ok(
        &mut m,
        JID1,
        &set(vec![Source::new(u32::MAX, Audio)], vec![]),
    );
}

#[test]
fn max_ssrc_count_limit_at_once() {
    let mut m = ValidatingSourceMap::new(4, 20);
    let err = add_refused(&mut m, JID1, &source_set());
    assert_eq!(
        err,
        SourceError::SsrcLimitExceeded {
            limit: 4,
            would_have: 7
        }
    );
}

#[test]
fn max_ssrc_count_limit_with_multiple_adds() {
    let mut m = ValidatingSourceMap::new(4, 20);
    let first = set(vec![v(1), v(2), v(3)], vec![sim()]);
    assert_eq!(add_ok(&mut m, JID1, &first), first);
    let second = set(
        vec![v(4), v(5), v(6)],
        vec![fid(1, 4), fid(2, 5), fid(3, 6)],
    );
    let err = add_refused(&mut m, JID1, &second);
    assert!(matches!(
        err,
        SourceError::SsrcLimitExceeded {
            limit: 4,
            would_have: 6
        }
    ));
}

#[test]
fn max_ssrc_group_count_limit_at_once() {
    let mut m = ValidatingSourceMap::new(20, 2);
    let err = add_refused(&mut m, JID1, &source_set());
    assert_eq!(
        err,
        SourceError::SsrcGroupLimitExceeded {
            limit: 2,
            would_have: 4
        }
    );
}

#[test]
fn max_ssrc_group_count_limit_with_multiple_adds() {
    let mut m = ValidatingSourceMap::new(20, 2);
    let first = set(vec![v(1), v(2), v(3)], vec![sim()]);
    assert_eq!(add_ok(&mut m, JID1, &first), first);
    let second = set(
        vec![v(4), v(5), v(6)],
        vec![fid(1, 4), fid(2, 5), fid(3, 6)],
    );
    let err = add_refused(&mut m, JID1, &second);
    assert!(matches!(
        err,
        SourceError::SsrcGroupLimitExceeded { limit: 2, .. }
    ));
}

fn duplicate_setup() -> (ValidatingSourceMap, [EndpointSourceSet; 2]) {
    let mut m = map();
    add_ok(&mut m, JID1, &set(vec![Source::new(1, Audio)], vec![]));
    let dup_audio = set(
        vec![Source::new(1, Audio).with_msid("differentMsid")],
        vec![],
    );
    let dup_video = set(
        vec![Source::new(1, Video).with_msid("differentMsid")],
        vec![],
    );
    (m, [dup_audio, dup_video])
}

#[test]
fn duplicate_ssrcs_advertised_by_the_same_endpoint() {
    let (mut m, dups) = duplicate_setup();
    for d in &dups {
        assert_eq!(
            add_refused(&mut m, JID1, d),
            SourceError::SsrcAlreadyUsed(Ssrc(1))
        );
    }
    // Even the very same source again.
    let same = set(vec![Source::new(1, Audio)], vec![]);
    assert_eq!(
        add_refused(&mut m, JID1, &same),
        SourceError::SsrcAlreadyUsed(Ssrc(1))
    );
}

#[test]
fn duplicate_ssrcs_advertised_by_another_endpoint() {
    let (mut m, dups) = duplicate_setup();
    for d in &dups {
        assert_eq!(
            add_refused(&mut m, JID2, d),
            SourceError::SsrcAlreadyUsed(Ssrc(1))
        );
    }
}

#[test]
fn ssrc_group_with_missing_msid() {
    let mut m = map();
    let req = set(
        (1..=3).map(|s| Source::new(s, Video)).collect(),
        vec![sim()],
    );
    assert_eq!(
        add_refused(&mut m, JID1, &req),
        SourceError::MsidMissing { ssrc: Ssrc(1) }
    );
}

#[test]
fn ssrc_group_with_different_msid_values() {
    let mut m = map();
    let req = set(
        vec![v(1), v(2), Source::new(3, Video).with_msid("differentMsid")],
        vec![sim()],
    );
    assert!(matches!(
        add_refused(&mut m, JID1, &req),
        SourceError::GroupMsidMismatch { ssrc: Ssrc(3), .. }
    ));
}

#[test]
fn group_with_an_ssrc_that_has_no_source_signaled() {
    let mut m = map();
    let req = set(vec![v(1)], vec![fid(1, 2)]);
    assert_eq!(
        add_refused(&mut m, JID1, &req),
        SourceError::GroupUnknownSsrc {
            group: "FID[1, 2]".into(),
            ssrc: Ssrc(2)
        }
    );
}

#[test]
fn fid_groups() {
    let mut m = map();
    let three = set(
        vec![v(1), v(2), v(3)],
        vec![SsrcGroup::new(FID, Video, &[1, 2, 3])],
    );
    assert!(matches!(
        add_refused(&mut m, JID1, &three),
        SourceError::InvalidFidGroup { .. }
    ));
    let one = set(vec![v(1)], vec![SsrcGroup::new(FID, Video, &[1])]);
    assert_eq!(
        add_refused(&mut m, JID1, &one),
        SourceError::InvalidFidGroup {
            group: "FID[1]".into()
        }
    );
}

#[test]
fn msid_conflicts_with_another_endpoint() {
    let mut m = map();
    add_ok(&mut m, JID1, &set(vec![v(1)], vec![]));
    assert_eq!(
        add_refused(&mut m, JID2, &set(vec![v(2)], vec![])),
        SourceError::MsidConflict {
            msid: MSID.into(),
            ssrc: Ssrc(2)
        }
    );
}

#[test]
fn msid_conflicts_multiple_non_grouped_ssrcs_can_have_no_msid() {
    let mut m = map();
    let req = set(
        vec![
            Source::new(1, Video),
            Source::new(2, Video),
            Source::new(3, Video),
            Source::new(4, Audio),
            Source::new(5, Audio),
        ],
        vec![],
    );
    assert_eq!(add_ok(&mut m, JID1, &req), req);
}

#[test]
fn msid_conflicts_within_one_endpoint_ungrouped_added_separately() {
    let mut m = map();
    add_ok(&mut m, JID1, &set(vec![v(1)], vec![]));
    assert!(matches!(
        add_refused(&mut m, JID1, &set(vec![v(2)], vec![])),
        SourceError::MsidConflict { ssrc: Ssrc(2), .. }
    ));
}

#[test]
fn msid_conflicts_within_one_endpoint_ungrouped_added_together() {
    let mut m = map();
    assert!(matches!(
        add_refused(&mut m, JID1, &set(vec![v(1), v(2)], vec![])),
        SourceError::MsidConflict { ssrc: Ssrc(2), .. }
    ));
}

#[test]
fn msid_conflicts_within_one_endpoint_in_independent_fid_groups() {
    let mut m = map();
    let req = set(vec![v(1), v(2), v(4), v(5)], vec![fid(1, 4), fid(2, 5)]);
    assert!(matches!(
        add_refused(&mut m, JID1, &req),
        SourceError::MsidConflict { ssrc: Ssrc(2), .. }
    ));
}

#[test]
fn msid_conflicts_within_one_endpoint_in_independent_sim_groups() {
    let mut m = map();
    let req = set(
        vec![v(1), v(2), v(3), v(4)],
        vec![
            SsrcGroup::new(SIM, Video, &[1, 2]),
            SsrcGroup::new(SIM, Video, &[3, 4]),
        ],
    );
    assert!(matches!(
        add_refused(&mut m, JID1, &req),
        SourceError::MsidConflict { ssrc: Ssrc(3), .. }
    ));
}

#[test]
fn audio_and_video_can_have_the_same_msid_with_no_msid() {
    let mut m = map();
    let req = set(vec![Source::new(1, Audio), Source::new(2, Video)], vec![]);
    assert_eq!(add_ok(&mut m, JID1, &req), req);
}

#[test]
fn audio_and_video_can_have_the_same_msid_with_msid_and_no_groups() {
    let mut m = map();
    let req = set(vec![v(1), Source::new(111, Audio).with_msid(MSID)], vec![]);
    assert_eq!(add_ok(&mut m, JID1, &req), req);
}

#[test]
fn audio_and_video_can_have_the_same_msid_with_msid_and_groups() {
    let mut m = map();
    let mut all = sources();
    all.push(Source::new(111, Audio).with_msid(MSID));
    let req = set(all, groups());
    assert_eq!(add_ok(&mut m, JID1, &req), req);
}

#[test]
fn adding_an_empty_group() {
    let mut m = map();
    let req = set(
        vec![v(1), v(2), v(3)],
        vec![
            sim(),
            SsrcGroup::new(SIM, Video, &[]),
            SsrcGroup::new(FID, Video, &[]),
        ],
    );
    assert_eq!(
        add_ok(&mut m, JID1, &req),
        set(vec![v(1), v(2), v(3)], vec![sim()])
    );
    assert_eq!(m.get(JID1).unwrap().groups, vec![sim()]);
}

// ------------------------------------------------------ removing (ports)

/// The map of the "Removing sources" context: jid1 with the VP8 set.
fn with_vp8() -> ValidatingSourceMap {
    let mut m = map();
    add_ok(&mut m, JID1, &source_set());
    m
}

#[test]
fn removing_empty_sources() {
    let mut m = with_vp8();
    assert!(remove_ok(&mut m, JID1, &EndpointSourceSet::new()).is_empty());
    // Also for an owner without sources: nothing named, nothing wrong.
    assert!(remove_ok(&mut m, JID2, &EndpointSourceSet::new()).is_empty());
    assert_eq!(m.get(JID1), Some(&source_set()));
}

#[test]
fn successful_removal_of_all_sources_and_groups() {
    let mut m = with_vp8();
    assert_eq!(remove_ok(&mut m, JID1, &source_set()), source_set());
    assert!(m.is_empty());
    assert_eq!(m.owner_of(Ssrc(1)), None);
}

#[test]
fn successful_removal_of_all_sources_groups_assumed() {
    let mut m = with_vp8();
    assert_eq!(
        remove_ok(&mut m, JID1, &set(sources(), vec![])),
        source_set()
    );
    assert!(m.is_empty());
}

#[test]
fn successful_removal_of_a_subset_of_sources() {
    let mut m = with_vp8();
    // s1 stays, with no group.
    let to_remove = set(sources()[1..].to_vec(), groups());
    assert_eq!(remove_ok(&mut m, JID1, &to_remove), to_remove);
    assert_eq!(m.get(JID1), Some(&set(vec![v(1)], vec![])));
}

#[test]
fn removing_non_signaled_sources_another_endpoints_sources() {
    let mut m = with_vp8();
    assert_eq!(
        remove_refused(&mut m, JID2, &source_set()),
        SourceError::SourceNotOwned(Some(Ssrc(1)))
    );
    // An owner with sources of its own, naming jid1's.
    add_ok(&mut m, JID2, &set(vec![Source::new(50, Audio)], vec![]));
    assert_eq!(
        remove_refused(&mut m, JID2, &set(vec![Source::new(7, Audio)], vec![])),
        SourceError::SourceNotOwned(Some(Ssrc(7)))
    );
}

#[test]
fn removing_non_signaled_sources_a_non_signaled_source() {
    let mut m = with_vp8();
    let err = remove_refused(&mut m, JID1, &set(vec![Source::new(1111, Audio)], vec![]));
    assert_eq!(err, SourceError::SourceNotOwned(Some(Ssrc(1111))));
    assert_eq!(
        err.to_string(),
        "Source does not exist or is not owned by endpoint (ssrc=1111)"
    );
}

#[test]
fn removing_non_signaled_sources_a_non_signaled_ssrc_group() {
    let mut m = with_vp8();
    let mut g = groups();
    g.push(fid(1, 2));
    assert_eq!(
        remove_refused(&mut m, JID1, &set(sources(), g)),
        SourceError::GroupNotOwned {
            group: "FID[1, 2]".into()
        }
    );
}

#[test]
fn removing_a_subset_leaving_two_fid_groups() {
    let mut m = with_vp8();
    // SIM and FID(1,4) go; FID(2,5) and FID(3,6) stay with one msid.
    let req = set(vec![v(1), v(4)], vec![sim(), fid(1, 4)]);
    assert!(matches!(
        remove_refused(&mut m, JID1, &req),
        SourceError::MsidConflict { .. }
    ));
}

#[test]
fn removing_only_part_of_a_simulcast_groups_sources() {
    let mut m = with_vp8();
    remove_refused(&mut m, JID1, &set(vec![v(1)], vec![]));
}

#[test]
fn removing_a_group_but_not_its_sources() {
    let mut m = with_vp8();
    for req in [
        set(vec![], vec![sim()]),
        set(vec![], vec![fid(1, 4)]),
        set(vec![], groups()),
    ] {
        assert!(matches!(
            remove_refused(&mut m, JID1, &req),
            SourceError::MsidConflict { .. }
        ));
    }
}

// ------------------------------------------------ every rule, both ways

#[test]
fn ssrc_limit_counts_audio_and_video_together() {
    let mut m = map();
    // 19 audio sources without msid and one video: exactly 20.
    let mut req = set((1..=19).map(|s| Source::new(s, Audio)).collect(), vec![]);
    req.sources.push(Source::new(100, Video));
    add_ok(&mut m, JID1, &req);
    assert_eq!(
        add_refused(&mut m, JID1, &set(vec![Source::new(200, Video)], vec![])),
        SourceError::SsrcLimitExceeded {
            limit: 20,
            would_have: 21
        }
    );
    // The limit is per endpoint.
    add_ok(&mut m, JID2, &set(vec![Source::new(200, Video)], vec![]));
    // Room again after a removal.
    remove_ok(&mut m, JID1, &set(vec![Source::new(1, Audio)], vec![]));
    add_ok(&mut m, JID1, &set(vec![Source::new(300, Video)], vec![]));
}

#[test]
fn group_limit_boundary() {
    let mut m = ValidatingSourceMap::from_config(&SourceConfig {
        max_ssrcs_per_user: 40,
        ..SourceConfig::default()
    });
    // Ten FID pairs: 20 sources, 10 groups, each pair its own msid.
    let pairs = |base: u32, n: u32| {
        let mut s = Vec::new();
        let mut g = Vec::new();
        for i in 0..n {
            let (a, b) = (base + 2 * i, base + 2 * i + 1);
            let msid = format!("m{a}");
            s.push(Source::new(a, Video).with_msid(&msid));
            s.push(Source::new(b, Video).with_msid(&msid));
            g.push(fid(a, b));
        }
        set(s, g)
    };
    add_ok(&mut m, JID1, &pairs(100, 10));
    // Ten more groups over the same sources would be 20 groups: SIM
    // groups of one layer each, which do not change any stream's msid.
    let sims: Vec<SsrcGroup> = (0..10)
        .map(|i| SsrcGroup::new(SIM, Video, &[100 + 2 * i]))
        .collect();
    let mut eleven = sims.clone();
    eleven.push(SsrcGroup::new(SIM, Video, &[101]));
    assert_eq!(
        add_refused(&mut m, JID1, &set(vec![], eleven)),
        SourceError::SsrcGroupLimitExceeded {
            limit: 20,
            would_have: 21
        }
    );
    add_ok(&mut m, JID1, &set(vec![], sims));
    assert_eq!(m.get(JID1).unwrap().groups.len(), 20);
}

#[test]
fn groups_already_known_are_ignored_not_refused() {
    let mut m = with_vp8();
    // The same groups again (and one twice in the request): nothing new.
    let mut again = groups();
    again.push(sim());
    assert!(add_ok(&mut m, JID1, &set(vec![], again)).is_empty());
    // A known group next to a new source and a new group: only the new.
    let req = set(
        vec![Source::new(8, Audio).with_msid("a8")],
        vec![sim(), SsrcGroup::new(FID, Audio, &[]), fid(1, 4)],
    );
    assert_eq!(
        add_ok(&mut m, JID1, &req),
        set(vec![Source::new(8, Audio).with_msid("a8")], vec![])
    );
}

#[test]
fn group_ssrc_of_the_other_media_is_unknown() {
    let mut m = map();
    let req = set(
        vec![Source::new(1, Audio).with_msid("x"), v(2)],
        vec![SsrcGroup::new(FID, Video, &[2, 1])],
    );
    assert_eq!(
        add_refused(&mut m, JID1, &req),
        SourceError::GroupUnknownSsrc {
            group: "FID[2, 1]".into(),
            ssrc: Ssrc(1)
        }
    );
}

#[test]
fn groups_may_name_sources_added_before() {
    let mut m = map();
    add_ok(&mut m, JID1, &set(vec![v(1), v(2), v(3)], vec![sim()]));
    let req = set(
        vec![v(4), v(5), v(6)],
        vec![fid(1, 4), fid(2, 5), fid(3, 6)],
    );
    assert_eq!(add_ok(&mut m, JID1, &req), req);
    assert_eq!(m.get(JID1).unwrap(), &set(video_sources(), groups()));
}

#[test]
fn a_request_naming_one_ssrc_twice() {
    let mut m = map();
    // The very same source twice is one source.
    let twice = set(vec![Source::new(1, Audio), Source::new(1, Audio)], vec![]);
    assert_eq!(
        add_ok(&mut m, JID1, &twice),
        set(vec![Source::new(1, Audio)], vec![])
    );
    assert_eq!(m.get(JID1).unwrap().sources.len(), 1);
    // One SSRC with two different descriptions is refused.
    let clash = set(vec![Source::new(2, Audio), Source::new(2, Video)], vec![]);
    assert_eq!(
        add_refused(&mut m, JID2, &clash),
        SourceError::SsrcAlreadyUsed(Ssrc(2))
    );
}

#[test]
fn accepted_sources_are_normalised() {
    let mut m = map();
    let req = set(
        vec![
            Source::new(1, Video)
                .with_name("ab-v0")
                .with_video_type("Desktop")
                .with_msid("s t")
                .with_parameter("cname", "c")
                .with_parameter("mslabel", "s"),
            Source::new(2, Video)
                .with_name("ab-v0")
                .with_video_type("desktop")
                .with_msid("s t"),
        ],
        vec![SsrcGroup::new("fid", Video, &[1, 2])],
    );
    let expected = set(
        vec![
            Source::new(1, Video)
                .with_name("ab-v0")
                .with_video_type("desktop")
                .with_msid("s t"),
            Source::new(2, Video)
                .with_name("ab-v0")
                .with_video_type("desktop")
                .with_msid("s t"),
        ],
        vec![fid(1, 2)],
    );
    assert_eq!(add_ok(&mut m, JID1, &req), expected);
    assert_eq!(m.get(JID1), Some(&expected));
    // The group in another spelling is the same group: named in a
    // removal, it is found.
    let removed = remove_ok(
        &mut m,
        JID1,
        &set(
            vec![Source::new(2, Video)],
            vec![SsrcGroup::new("Fid", Video, &[1, 2])],
        ),
    );
    assert_eq!(
        removed,
        set(vec![expected.sources[1].clone()], vec![fid(1, 2)])
    );
}

#[test]
fn unknown_semantics_and_video_types_are_refused() {
    let mut m = map();
    let req = set(
        vec![v(1), v(2)],
        vec![SsrcGroup::new("FEC-FR", Video, &[1, 2])],
    );
    assert_eq!(
        add_refused(&mut m, JID1, &req),
        SourceError::InvalidGroupSemantics("FEC-FR".into())
    );
    let req = set(
        vec![Source::new(1, Video).with_video_type("screen")],
        vec![],
    );
    assert_eq!(
        add_refused(&mut m, JID1, &req),
        SourceError::InvalidVideoType {
            ssrc: Ssrc(1),
            video_type: "screen".into()
        }
    );
    add_ok(&mut m, JID1, &set(vec![v(1), v(2)], vec![fid(1, 2)]));
    assert_eq!(
        remove_refused(
            &mut m,
            JID1,
            &set(vec![], vec![SsrcGroup::new("X", Video, &[1, 2])])
        ),
        SourceError::InvalidGroupSemantics("X".into())
    );
}

#[test]
fn removal_by_ssrc_only_returns_the_stored_sources() {
    let mut m = map();
    let stored = Source::new(5, Video)
        .with_name("ab-v0")
        .with_video_type("camera")
        .with_msid("s t");
    add_ok(&mut m, JID1, &set(vec![stored.clone()], vec![]));
    // Named by SSRC alone, even in the wrong media.
    let removed = remove_ok(&mut m, JID1, &set(vec![Source::new(5, Audio)], vec![]));
    assert_eq!(removed, set(vec![stored], vec![]));
    assert!(m.get(JID1).is_none());
}

#[test]
fn groups_losing_a_member_are_removed_with_it() {
    let mut m = with_vp8();
    // The whole camera by its sources alone: every group goes with them.
    let removed = remove_ok(&mut m, JID1, &set(video_sources(), vec![]));
    assert_eq!(removed, set(video_sources(), groups()));
    assert_eq!(m.get(JID1), Some(&set(vec![s7()], vec![])));

    // One RTX pair of a camera without simulcast: FID goes, the other pair
    // (another msid) is untouched.
    let mut m = map();
    let cam = set(
        vec![
            v(1),
            v(2),
            Source::new(3, Video).with_msid("other"),
            Source::new(4, Video).with_msid("other"),
        ],
        vec![fid(1, 2), fid(3, 4)],
    );
    add_ok(&mut m, JID1, &cam);
    let removed = remove_ok(&mut m, JID1, &set(vec![Source::new(4, Video)], vec![]));
    assert_eq!(
        removed,
        set(
            vec![Source::new(4, Video).with_msid("other")],
            vec![fid(3, 4)]
        )
    );
    assert_eq!(
        m.get(JID1),
        Some(&set(
            vec![v(1), v(2), Source::new(3, Video).with_msid("other")],
            vec![fid(1, 2)]
        ))
    );
}

#[test]
fn remove_from_an_owner_without_sources() {
    let mut m = map();
    assert_eq!(
        remove_refused(&mut m, JID1, &set(vec![Source::new(3, Audio)], vec![])),
        SourceError::SourceNotOwned(Some(Ssrc(3)))
    );
    assert_eq!(
        remove_refused(&mut m, JID1, &set(vec![], vec![fid(8, 9)])),
        SourceError::SourceNotOwned(Some(Ssrc(8)))
    );
    assert_eq!(
        remove_refused(
            &mut m,
            JID1,
            &set(vec![], vec![SsrcGroup::new(SIM, Video, &[])])
        ),
        SourceError::SourceNotOwned(None)
    );
}

#[test]
fn a_failing_remove_removes_nothing() {
    let mut m = with_vp8();
    // 7 is owned, 99 is not: 7 stays.
    let req = set(vec![s7(), Source::new(99, Audio)], vec![]);
    assert_eq!(
        remove_refused(&mut m, JID1, &req),
        SourceError::SourceNotOwned(Some(Ssrc(99)))
    );
    assert_eq!(m.get(JID1), Some(&source_set()));
}

#[test]
fn a_failing_add_adds_nothing() {
    let mut m = map();
    // Valid sources, then an invalid group: none of the sources is kept.
    let req = set(vec![v(1), v(2), s7()], vec![fid(1, 3)]);
    add_refused(&mut m, JID1, &req);
    assert!(m.is_empty());
    assert_eq!(m.owner_of(Ssrc(7)), None);
    // Another endpoint may use them all now.
    add_ok(&mut m, JID2, &set(vec![v(1), v(2), s7()], vec![fid(1, 2)]));
}

#[test]
fn remove_owner_frees_ssrcs_and_msids() {
    let mut m = with_vp8();
    add_ok(&mut m, JID2, &set(vec![Source::new(50, Audio)], vec![]));
    assert_eq!(m.remove_owner(JID1), Some(source_set()));
    assert_eq!(m.remove_owner(JID1), None);
    m.assert_consistent();
    // jid2 may now use jid1's SSRCs and msid.
    add_ok(&mut m, JID2, &source_set());
    assert_eq!(m.len(), 1);
}

#[test]
fn an_msid_shared_by_audio_and_video_stays_taken_until_both_go() {
    let mut m = map();
    add_ok(
        &mut m,
        JID1,
        &set(vec![v(1), Source::new(2, Audio).with_msid(MSID)], vec![]),
    );
    remove_ok(&mut m, JID1, &set(vec![Source::new(1, Video)], vec![]));
    // Still jid1's through the audio source.
    assert!(matches!(
        add_refused(&mut m, JID2, &set(vec![v(3)], vec![])),
        SourceError::MsidConflict { .. }
    ));
    // And jid1 may use it for video again.
    add_ok(&mut m, JID1, &set(vec![v(3)], vec![]));
    remove_ok(
        &mut m,
        JID1,
        &set(vec![Source::new(2, Audio), Source::new(3, Audio)], vec![]),
    );
    add_ok(&mut m, JID2, &set(vec![v(4)], vec![]));
}

#[test]
fn simulcast_with_rtx_is_one_stream_and_a_second_camera_another() {
    let mut m = with_vp8();
    // A second camera (screen share) with its own msid and RTX.
    let share = set(
        vec![
            Source::new(10, Video)
                .with_msid("share")
                .with_video_type("desktop"),
            Source::new(11, Video)
                .with_msid("share")
                .with_video_type("desktop"),
        ],
        vec![fid(10, 11)],
    );
    add_ok(&mut m, JID1, &share);
    // But not with the camera's msid.
    let clash = set(vec![v(12), v(13)], vec![fid(12, 13)]);
    assert!(matches!(
        add_refused(&mut m, JID1, &clash),
        SourceError::MsidConflict { ssrc: Ssrc(12), .. }
    ));
}

#[test]
fn error_conditions_and_texts() {
    let cases = [
        (SourceError::InvalidSsrc(Ssrc(0)), "0"),
        (SourceError::SsrcAlreadyUsed(Ssrc(42)), "42"),
        (
            SourceError::SsrcLimitExceeded {
                limit: 20,
                would_have: 21,
            },
            "20",
        ),
        (
            SourceError::SsrcGroupLimitExceeded {
                limit: 20,
                would_have: 22,
            },
            "22",
        ),
        (SourceError::InvalidGroupSemantics("X".into()), "'X'"),
        (
            SourceError::InvalidVideoType {
                ssrc: Ssrc(3),
                video_type: "v".into(),
            },
            "SSRC 3",
        ),
        (
            SourceError::GroupUnknownSsrc {
                group: "FID[1, 2]".into(),
                ssrc: Ssrc(2),
            },
            "FID[1, 2] names SSRC 2",
        ),
        (
            SourceError::InvalidFidGroup {
                group: "FID[1]".into(),
            },
            "FID[1]",
        ),
        (SourceError::MsidMissing { ssrc: Ssrc(9) }, "SSRC 9"),
        (
            SourceError::GroupMsidMismatch {
                group: "SIM[1, 2]".into(),
                ssrc: Ssrc(2),
            },
            "SSRC 2",
        ),
        (
            SourceError::MsidConflict {
                msid: "m".into(),
                ssrc: Ssrc(5),
            },
            "SSRC 5",
        ),
        (SourceError::SourceNotOwned(Some(Ssrc(6))), "ssrc=6"),
        (
            SourceError::GroupNotOwned {
                group: "SIM[1]".into(),
            },
            "SIM[1]",
        ),
    ];
    for (err, needle) in cases {
        let text = err.to_string();
        assert!(text.contains(needle), "{text:?} lacks {needle:?}");
        let st = crate::stanza::StanzaError::from(err);
        assert_eq!(st.condition, Condition::BadRequest, "{text}");
        assert_eq!(st.text.as_deref(), Some(&*text));
    }
    let st = crate::stanza::StanzaError::from(SourceError::SenderLimit {
        audio: false,
        video: true,
    });
    assert_eq!(st.condition, Condition::ResourceConstraint);
    assert_eq!(st.text.as_deref(), Some("sender limit reached for video"));
}

// --------------------------------------------------------- random runs

/// A random request over a small pool of SSRCs and msids, so that
/// conflicts of every kind are frequent.
fn random_request(rng: &mut Rng) -> EndpointSourceSet {
    let mut pick = |n: u64| (rng.u64() % n) as u32;
    let mut req = EndpointSourceSet::new();
    for _ in 0..pick(5) {
        let media = if pick(3) == 0 { Audio } else { Video };
        let mut s = Source::new(pick(16), media);
        if pick(4) != 0 {
            s = s.with_msid(["a", "b", "c"][pick(3) as usize]);
        }
        if pick(4) == 0 {
            s = s.with_parameter("cname", "x");
        }
        req.sources.push(s);
    }
    for _ in 0..pick(3) {
        let semantics = [SIM, FID, "sim"][pick(3) as usize];
        let ssrcs: Vec<u32> = (0..pick(4)).map(|_| 1 + pick(15)).collect();
        let media = if pick(4) == 0 { Audio } else { Video };
        req.groups.push(SsrcGroup::new(semantics, media, &ssrcs));
    }
    req
}

/// Thousands of random adds and removes over three owners: the indexes
/// always match the map, every stored set is valid, a refusal never
/// changes anything, and an accepted change is exactly what the call
/// returned.
#[test]
fn random_requests_keep_the_map_valid_and_refusals_change_nothing() {
    let mut rng = Rng::from_seed([7; 32]);
    let mut m = ValidatingSourceMap::new(6, 4);
    let owners = ["a", "b", "c"];
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..5_000 {
        let owner = owners[(rng.u64() % 3) as usize];
        let before = m.clone();
        let choice = rng.u64() % 10;
        let req = if choice < 4 {
            // Mostly remove things the owner has, so removals succeed too.
            let mut r = EndpointSourceSet::new();
            if let Some(have) = m.get(owner) {
                for s in &have.sources {
                    if rng.u64() % 2 == 0 {
                        r.sources.push(Source::new(s.ssrc.0, s.media));
                    }
                }
            }
            r
        } else {
            random_request(&mut rng)
        };
        let result = match choice {
            0..=3 => m.try_remove(owner, &req),
            4 => Ok(m.remove_owner(owner).unwrap_or_default()),
            _ => m.try_add(owner, &req),
        };
        m.assert_consistent();
        match result {
            Err(_) => {
                refused += 1;
                assert_eq!(m, before, "refused, yet changed");
            }
            Ok(changed) => {
                // Count only real changes: empty requests prove nothing.
                accepted += usize::from(!changed.is_empty());
                let old = before.get(owner).cloned().unwrap_or_default();
                let new = m.get(owner).cloned().unwrap_or_default();
                if choice < 5 {
                    assert_eq!(old.difference(&new), changed);
                    assert!(new.difference(&old).is_empty());
                } else {
                    assert_eq!(new.difference(&old), changed);
                    assert!(old.difference(&new).is_empty());
                }
                for o in owners.iter().filter(|o| **o != owner) {
                    assert_eq!(m.get(o), before.get(o), "another owner changed");
                }
            }
        }
    }
    assert!(accepted > 500 && refused > 1_000, "{accepted} / {refused}");
}
