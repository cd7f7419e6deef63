//! cloudward-iam (placeholder while the crate is being written).
