//! XMPP stream connections (sans-IO).
pub mod sasl;
