//! jicofo
