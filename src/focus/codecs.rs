//! The codecs the focus offers (protocol.md §5.3, CURRENT offer), filtered
//! by what the participant's client said it supports.
//!
//! Audio: RED 112 (`111/111`) when the client advertises opus-red and it is
//! enabled, opus 111 (`minptime=10`, `useinbandfec=1` unless RED), transport
//! feedback when TCC, telephone-event 126; `maxptime=60`; header extensions
//! ssrc-audio-level 1, sdes:mid 10, transport-cc 5 (TCC);
//! `extmap-allow-mixed`. Video, in this order: AV1 41, VP8 100, H264 107,
//! VP9 101, each with `ccm fir`, `nack`, `nack pli`, `goog-remb` (only when
//! the client does REMB and not TCC) and `transport-cc` (TCC); then RTX
//! (42/96/97/99) when the client does RFC 4588; header extensions AV1
//! dependency descriptor 11, sdes:mid 10, abs-send-time 3, transport-cc 5.
//! Every RTP description carries `rtcp-mux` (BUNDLE is always used).

use super::features::{Feature, Features};
use crate::config::{ConfigError, Properties};
use crate::stanza::jingle::{PayloadType, RtpDescription, RtpHdrExt};

const AUDIO_LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
const SDES_MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
const TCC: &str = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
const ABS_SEND_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
const AV1_DD: &str =
    "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension";

/// Which codecs are offered (`jicofo.codec.*`, legacy `ENABLE_<CODEC>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecConfig {
    /// AV1 (41, RTX 42).
    pub av1: bool,
    /// VP8 (100, RTX 96).
    pub vp8: bool,
    /// VP9 (101, RTX 97).
    pub vp9: bool,
    /// H264 (107, RTX 99).
    pub h264: bool,
    /// RED for opus (112) when the client advertises it.
    pub opus_red: bool,
}

impl Default for CodecConfig {
    fn default() -> Self {
        CodecConfig {
            av1: true,
            vp8: true,
            vp9: true,
            h264: true,
            opus_red: true,
        }
    }
}

impl CodecConfig {
    /// Reads the codec switches, legacy names first.
    pub fn from_props(p: &Properties) -> Result<CodecConfig, ConfigError> {
        let flag = |legacy: &str, current: &str, default: bool| p.bool(&[legacy, current], default);
        Ok(CodecConfig {
            av1: flag(
                "org.jitsi.jicofo.ENABLE_AV1",
                "jicofo.codec.video.av1.enabled",
                true,
            )?,
            vp8: flag(
                "org.jitsi.jicofo.ENABLE_VP8",
                "jicofo.codec.video.vp8.enabled",
                true,
            )?,
            vp9: flag(
                "org.jitsi.jicofo.ENABLE_VP9",
                "jicofo.codec.video.vp9.enabled",
                true,
            )?,
            h264: flag(
                "org.jitsi.jicofo.ENABLE_H264",
                "jicofo.codec.video.h264.enabled",
                true,
            )?,
            opus_red: p.bool(&["jicofo.codec.audio.opus.red.enabled"], true)?,
        })
    }
}

/// The audio description offered to a client with `f`.
pub fn audio(cfg: &CodecConfig, f: Features) -> RtpDescription {
    let tcc = f.has(Feature::Tcc);
    let red = cfg.opus_red && f.has(Feature::OpusRed);
    let mut d = RtpDescription::new("audio");
    d.maxptime = Some(60);
    if red {
        d.payload_types
            .push(PayloadType::new(112, "red", 48000, Some(2)).with_parameter("", "111/111"));
    }
    let mut opus = PayloadType::new(111, "opus", 48000, Some(2)).with_parameter("minptime", "10");
    if !red {
        opus = opus.with_parameter("useinbandfec", "1");
    }
    if tcc {
        opus = opus.with_rtcp_fb("transport-cc", None);
    }
    d.payload_types.push(opus);
    d.payload_types
        .push(PayloadType::new(126, "telephone-event", 8000, None));
    d.hdrexts.push(RtpHdrExt::new(1, AUDIO_LEVEL));
    d.hdrexts.push(RtpHdrExt::new(10, SDES_MID));
    if tcc {
        d.hdrexts.push(RtpHdrExt::new(5, TCC));
    }
    d.extmap_allow_mixed = true;
    d.rtcp_mux = true;
    d
}

/// (enabled, payload type, name, RTX payload type, extra format parameter)
type VideoCodec<'a> = (bool, u8, &'a str, u8, Option<(&'a str, &'a str)>);

/// The video description offered to a client with `f`.
pub fn video(cfg: &CodecConfig, f: Features) -> RtpDescription {
    let tcc = f.has(Feature::Tcc);
    let remb = f.has(Feature::Remb) && !tcc;
    let with_fb = |mut pt: PayloadType| {
        pt = pt
            .with_rtcp_fb("ccm", Some("fir"))
            .with_rtcp_fb("nack", None)
            .with_rtcp_fb("nack", Some("pli"));
        if remb {
            pt = pt.with_rtcp_fb("goog-remb", None);
        }
        if tcc {
            pt = pt.with_rtcp_fb("transport-cc", None);
        }
        pt
    };
    let codecs: [VideoCodec; 4] = [
        (cfg.av1, 41, "AV1", 42, None),
        (cfg.vp8, 100, "VP8", 96, None),
        (
            cfg.h264,
            107,
            "H264",
            99,
            Some((
                "profile-level-id",
                "42e01f;level-asymmetry-allowed=1;packetization-mode=1;",
            )),
        ),
        (cfg.vp9, 101, "VP9", 97, None),
    ];
    let mut d = RtpDescription::new("video");
    for (on, id, name, _, fmtp) in codecs {
        if on {
            let mut pt = PayloadType::new(id, name, 90000, None);
            if let Some((k, v)) = fmtp {
                pt = pt.with_parameter(k, v);
            }
            d.payload_types.push(with_fb(pt));
        }
    }
    if f.has(Feature::Rtx) {
        for (on, id, _, rtx, _) in codecs {
            if on {
                d.payload_types.push(
                    PayloadType::new(rtx, "rtx", 90000, None)
                        .with_parameter("apt", &id.to_string()),
                );
            }
        }
    }
    if cfg.av1 {
        d.hdrexts.push(RtpHdrExt::new(11, AV1_DD));
    }
    d.hdrexts.push(RtpHdrExt::new(10, SDES_MID));
    d.hdrexts.push(RtpHdrExt::new(3, ABS_SEND_TIME));
    if tcc {
        d.hdrexts.push(RtpHdrExt::new(5, TCC));
    }
    d.extmap_allow_mixed = true;
    d.rtcp_mux = true;
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(d: &RtpDescription) -> Vec<String> {
        d.payload_types
            .iter()
            .map(|p| format!("{}:{}", p.id, p.name.as_deref().unwrap_or("")))
            .collect()
    }

    #[test]
    fn audio_with_and_without_red_and_tcc() {
        let plain = audio(&CodecConfig::default(), Features::DEFAULT);
        assert_eq!(names(&plain), ["111:opus", "126:telephone-event"]);
        assert_eq!(plain.payload_types[0].parameter("useinbandfec"), Some("1"));
        assert!(plain.payload_types[0].rtcp_fbs.is_empty());
        assert_eq!(plain.maxptime, Some(60));
        let f = Features::DEFAULT.with(Feature::OpusRed).with(Feature::Tcc);
        let rich = audio(&CodecConfig::default(), f);
        assert_eq!(names(&rich), ["112:red", "111:opus", "126:telephone-event"]);
        assert_eq!(
            rich.payload_types[1].parameter("useinbandfec"),
            None,
            "no FEC with RED"
        );
        assert!(rich.hdrexts.iter().any(|h| h.id == 5));
        let no_red = CodecConfig {
            opus_red: false,
            ..CodecConfig::default()
        };
        assert_eq!(
            names(&audio(&no_red, f)),
            ["111:opus", "126:telephone-event"]
        );
    }

    #[test]
    fn video_order_rtx_and_feedback() {
        let f = Features::DEFAULT.with(Feature::Rtx).with(Feature::Tcc);
        let v = video(&CodecConfig::default(), f);
        assert_eq!(
            names(&v),
            [
                "41:AV1", "100:VP8", "107:H264", "101:VP9", "42:rtx", "96:rtx", "99:rtx", "97:rtx"
            ]
        );
        assert_eq!(v.payload_type(96).unwrap().parameter("apt"), Some("100"));
        let vp8 = v.payload_type(100).unwrap();
        assert!(vp8.rtcp_fbs.iter().any(|fb| &*fb.ty == "transport-cc"));
        assert!(
            !vp8.rtcp_fbs.iter().any(|fb| &*fb.ty == "goog-remb"),
            "no REMB with TCC"
        );
        let remb_only = video(
            &CodecConfig::default(),
            Features::DEFAULT.with(Feature::Remb),
        );
        assert!(
            remb_only
                .payload_type(100)
                .unwrap()
                .rtcp_fbs
                .iter()
                .any(|fb| &*fb.ty == "goog-remb")
        );
        assert!(
            remb_only.payload_type(96).is_none(),
            "RTX only when advertised"
        );
        let only_vp8 = CodecConfig {
            av1: false,
            vp9: false,
            h264: false,
            ..CodecConfig::default()
        };
        assert_eq!(names(&video(&only_vp8, f)), ["100:VP8", "96:rtx"]);
        assert!(v.rtcp_mux && v.extmap_allow_mixed);
    }
}
