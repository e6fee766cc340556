//! Unit tests of the Jingle layer: literal XML in (the examples of
//! protocol.md §5 completed, and what lib-jitsi-meet sends), literal XML
//! out, and every written request parsed back to the values it came from.
//! `read` holds what participants send, `write` what the focus sends.

mod carried;
mod read;
mod write;

use super::*;
use crate::xml::Parser;
pub(super) use read::{CURRENT_SESSION_ACCEPT, SECTION_5_4};
pub(super) use write::{SECTION_5_2_OFFER, SECTION_5_5_SOURCE_ADD};

fn with_jingle<R>(xml: &str, f: impl FnOnce(&JingleRequest<'_>) -> R) -> R {
    let mut p = Parser::new();
    let doc = p.parse(xml.as_bytes(), ns::CLIENT).expect("well-formed");
    let iq = Iq::parse(doc.root()).expect("an iq");
    let j = JingleRequest::from_iq(&iq).expect("a jingle request");
    f(&j)
}

fn parse_err(xml: &str) -> StanzaParseError {
    let mut p = Parser::new();
    let doc = p.parse(xml.as_bytes(), ns::CLIENT).expect("well-formed");
    let iq = Iq::parse(doc.root()).expect("an iq");
    JingleRequest::from_iq(&iq).expect_err("must not parse")
}

fn written(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    f(&mut out);
    String::from_utf8(out).unwrap()
}
