//! cloudward-store (placeholder while the crate is being written).
