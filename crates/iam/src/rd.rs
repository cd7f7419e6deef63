//! Resource Directory (`ResourceDirectoryMaster` `2022-04-19`): folders, member accounts, control policies.

use cloudward_service::ActionSpec;

/// The actions of this product.
pub const ACTIONS: &[ActionSpec] = &[];
