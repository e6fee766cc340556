//! jicofo-rs: a Jitsi Meet conference focus.

#![forbid(unsafe_code)]

pub mod config;
pub mod conn;
pub mod core;
pub mod focus;
pub mod shell;
pub mod stanza;
pub mod util;
pub mod xml;

// Fuzz bodies (`fuzz/` forwards to them). Also built for unit tests, so the
// regression tests of fuzz crashes can replay an input through the very body
// that found it, and so the bodies compile and lint with every `cargo test`.
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
pub mod fuzzing;
