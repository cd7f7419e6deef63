//! RAM `2015-05-01`: users, groups, roles, policies and their attachments, AccessKeys, login profiles, MFA, password policy, account alias, security preference, tags.

use cloudward_service::ActionSpec;

/// The actions of this product.
pub const ACTIONS: &[ActionSpec] = &[];
