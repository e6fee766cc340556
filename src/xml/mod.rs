//! The XML layer: bytes → frames → element trees, and element trees → bytes.
//!
//! [`framer`] finds complete frames in the read buffer, [`doc`] parses one
//! frame into a compact tree of byte ranges, [`writer`] serialises straight
//! into a connection's write buffer, [`ns`] names the namespaces we speak.

pub mod doc;
pub mod framer;
pub mod ns;
pub mod writer;

pub use doc::{Doc, El, ParseError, Parser};
pub use framer::{Frame, Framer, FramerError};
pub use writer::XmlWriter;
