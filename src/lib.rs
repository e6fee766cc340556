//! jicofo

pub mod config;
