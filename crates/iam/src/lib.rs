//! Identity services: RAM, STS and Resource Directory, and the first-start bootstrap of
//! the organization's management account.

pub mod authz;
pub mod bootstrap;
pub mod protect;
pub mod ram;
pub mod rd;
pub mod sts;
pub mod util;

use cloudward_service::ActionSpec;

/// Every action this crate implements, for registration with the server's registry.
pub fn actions() -> Vec<ActionSpec> {
    let mut all = Vec::new();
    all.extend_from_slice(sts::ACTIONS);
    all.extend_from_slice(ram::ACTIONS);
    all.extend_from_slice(protect::ACTIONS);
    all.extend_from_slice(rd::ACTIONS);
    all
}
