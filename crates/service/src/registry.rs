//! The action registry: `(Version, Action)` → metadata and handler.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use cloudward_protocol::ApiError;
use cloudward_store::Store;
use thiserror::Error;

use crate::Clock;
use crate::authz::Authorized;
use crate::crypto::SecretBox;
use crate::principal::Principal;

/// Business parameters of a call (common signing parameters removed).
pub type Params = BTreeMap<String, String>;

/// Whether an action reads or changes state (ActionTrail's `eventRW`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadWrite {
    /// Does not change state.
    Read,
    /// Changes state.
    Write,
}

/// How an action is authorized.
#[derive(Clone, Copy, Debug)]
pub enum Access {
    /// Any authenticated caller may run it (Alibaba lets every identity call
    /// `sts:GetCallerIdentity` without a policy).
    AnyAuthenticatedCaller,
    /// A policy decision on the action's RAM action name and the resource ARN computed
    /// from the parameters and the caller.
    Policy {
        /// Builds the resource ARN (e.g. `acs:ram::<acct>:user/<UserName>`).
        resource: fn(&Params, &Principal) -> Result<String, ApiError>,
    },
}

/// Shared state handed to every handler.
#[derive(Clone, Debug)]
pub struct ServiceState {
    /// The relational store.
    pub store: Store,
    /// Encrypts secrets under the root key.
    pub secrets: SecretBox,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Region name reported in responses and audit events.
    pub region: String,
    /// State owned by individual services (e.g. the audit log for ActionTrail), looked up
    /// by type with [`ServiceState::extension`].
    pub extensions: Extensions,
}

/// A type-keyed map of shared service state.
#[derive(Clone, Default)]
pub struct Extensions {
    map: HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>,
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extensions")
            .field("len", &self.map.len())
            .finish()
    }
}

impl Extensions {
    /// Adds (or replaces) the value of type `T`.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        self.map.insert(std::any::TypeId::of::<T>(), value);
    }

    /// The value of type `T`, if one was inserted.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.map
            .get(&std::any::TypeId::of::<T>())
            .cloned()
            .and_then(|v| v.downcast::<T>().ok())
    }
}

impl ServiceState {
    /// State with no extensions.
    pub fn new(store: Store, secrets: SecretBox, clock: Arc<dyn Clock>, region: String) -> Self {
        Self {
            store,
            secrets,
            clock,
            region,
            extensions: Extensions::default(),
        }
    }

    /// The extension of type `T` (see [`Extensions`]).
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.extensions.get::<T>()
    }
}

/// What a handler receives.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// Shared state.
    pub state: &'a ServiceState,
    /// The authorized caller and decision.
    pub auth: &'a Authorized,
    /// Business parameters.
    pub params: &'a Params,
}

/// The future a handler returns: the JSON response body (without `RequestId`) or an error.
pub type HandlerFuture<'a> =
    Pin<Box<dyn Future<Output = Result<serde_json::Value, ApiError>> + Send + 'a>>;

/// A handler function.
pub type Handler = for<'a> fn(Call<'a>) -> HandlerFuture<'a>;

/// Everything the server needs to know about one API action.
#[derive(Clone, Copy, Debug)]
pub struct ActionSpec {
    /// Product name as in `Recommend` links and `serviceName` (e.g. `Sts`).
    pub product: &'static str,
    /// Service host used as ActionTrail `eventSource` (e.g. `sts.aliyuncs.com`).
    pub event_source: &'static str,
    /// API version (e.g. `2015-04-01`).
    pub version: &'static str,
    /// Action name (e.g. `GetCallerIdentity`).
    pub name: &'static str,
    /// RAM action authorized (e.g. `sts:GetCallerIdentity`).
    pub ram_action: &'static str,
    /// Read or write.
    pub rw: ReadWrite,
    /// How it is authorized.
    pub access: Access,
    /// Parameters and response fields that hold secrets and are redacted in audit events.
    pub secret_fields: &'static [&'static str],
    /// The implementation.
    pub handler: Handler,
}

/// A registration mistake (found at start-up, never at request time).
#[derive(Debug, Error)]
pub enum RegistryError {
    /// Two specs claim the same `(Version, Action)`.
    #[error("action {version}/{name} is registered twice")]
    Duplicate {
        /// API version.
        version: &'static str,
        /// Action name.
        name: &'static str,
    },
}

/// Lookup table of every action the server answers.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    /// version → action name → spec. Nested so lookups borrow the request's `&str`s.
    versions: HashMap<&'static str, HashMap<&'static str, ActionSpec>>,
}

/// Result of looking up a `(Version, Action)` pair.
#[derive(Debug)]
pub enum Lookup<'a> {
    /// Found.
    Found(&'a ActionSpec),
    /// No product speaks this version.
    UnknownVersion,
    /// The version exists but has no such action.
    UnknownAction,
}

impl Registry {
    /// Adds a set of actions.
    pub fn register(&mut self, specs: &[ActionSpec]) -> Result<(), RegistryError> {
        for spec in specs {
            if self
                .versions
                .entry(spec.version)
                .or_default()
                .insert(spec.name, *spec)
                .is_some()
            {
                return Err(RegistryError::Duplicate {
                    version: spec.version,
                    name: spec.name,
                });
            }
        }
        Ok(())
    }

    /// Finds the spec for a request.
    pub fn lookup(&self, version: &str, action: &str) -> Lookup<'_> {
        match self.versions.get(version) {
            None => Lookup::UnknownVersion,
            Some(actions) => match actions.get(action) {
                Some(spec) => Lookup::Found(spec),
                None => Lookup::UnknownAction,
            },
        }
    }

    /// Every registered action (for documentation and the no-bypass test).
    pub fn actions(&self) -> impl Iterator<Item = &ActionSpec> {
        self.versions.values().flat_map(|actions| actions.values())
    }
}
