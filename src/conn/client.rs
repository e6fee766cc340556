//! The c2s client stream (placeholder until the client machine lands).
