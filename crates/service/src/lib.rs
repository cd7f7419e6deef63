//! The frame every Cloudward API action plugs into.
//!
//! This crate owns the types that carry a request from "signature verified" to "handler
//! ran": the authenticated [`Principal`], the [`RequestContext`] the policy engine sees, the
//! [`Authorized`] proof that a policy decision allowed the call, and the [`ActionSpec`]
//! registry that maps `(Version, Action)` to a handler.
//!
//! **Invariant (no handler without an authenticated principal and a policy decision):**
//! a [`Handler`] receives an [`Authorized`] value, and the only way to obtain one is
//! [`Authorizer::authorize`], which takes an [`Authenticated`] caller and records the
//! decision inside the value. There is no other constructor.

mod authz;
mod crypto;
mod principal;
mod registry;

pub use authz::{
    Authorized, Authorizer, DecisionBasis, DecisionFuture, GuardFuture, PolicySource, no_permission,
};
pub use crypto::{SecretBox, SecretBoxError, random_bytes};
pub use principal::{Authenticated, Principal, PrincipalKind, RequestContext};
pub use registry::{
    Access, ActionSpec, Call, Extensions, Handler, HandlerFuture, Lookup, Params, ReadWrite,
    Registry, RegistryError, ServiceState,
};

pub use cloudward_protocol::ApiError;

/// Current wall-clock time; every service reads time through [`ServiceState::clock`] so
/// tests can control it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in UTC.
    fn now(&self) -> time::OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }
}
