//! cloudward-policy (placeholder while the crate is being written).
