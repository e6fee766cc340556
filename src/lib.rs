//! jicofo
pub mod conn;
