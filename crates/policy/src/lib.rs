//! `cloudward-policy`: Alibaba Cloud's RAM policy language, as a pure library.
//!
//! It parses and validates policy documents ([`Policy::parse`]), lints them ([`lint`]),
//! compiles them into immutable indexed sets ([`PolicySet`]), decides requests through the full
//! pipeline of control, session, identity, resource and trust policies ([`evaluate`]) and
//! explains decisions to people ([`explain`]) and to API clients ([`AccessDeniedDetail`]).
//!
//! There is no I/O here: no clock (the current time is the `acs:CurrentTime` context value),
//! no files, no network. The language subset and the exact semantics are documented in
//! `docs/policy.md`.
//!
//! ```
//! use std::sync::Arc;
//! use cloudward_policy::{evaluate, Context, Outcome, Policies, Policy, PolicyKind, PolicySet, Request};
//!
//! let doc = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:Get*","Resource":"acs:oss:*:*:bucket/*"}]}"#;
//! let policy = Policy::parse(doc, PolicyKind::Identity).unwrap();
//! let identity = Arc::new(PolicySet::new(PolicyKind::Identity, [("p1", policy)]));
//! let request = Request::new(
//!     "acs:ram::1234567890123456:user/alice",
//!     "oss:GetObject",
//!     "acs:oss:*:1234567890123456:bucket/key",
//!     Context::new(),
//! );
//! let decision = evaluate(&Policies { identity: Some(&identity), ..Policies::default() }, &request);
//! assert_eq!(decision.outcome, Outcome::Allow);
//! ```

mod ast;
mod compile;
pub mod corpus;
mod error;
mod eval;
pub mod explain;
mod json;
pub mod lint;
mod parse;
mod value;
pub mod wildcard;

pub use ast::{
    ActionBlock, Condition, Effect, Operator, OperatorType, Policy, PolicyKind, Principal,
    Statement,
};
pub use compile::{EffectScope, PolicySet, PolicySetBuilder};
pub use error::{ParseError, Problem};
pub use eval::{
    Decision, MatchedStatement, Outcome, Policies, PolicyType, PrincipalInfo, PrincipalKind,
    Request, Stage, StageResult, StageTrace, evaluate,
};
pub use explain::{AccessDeniedDetail, DiagnosticMessage};
pub use parse::{Limits, significant_chars};
pub use value::{Context, ContextError, ContextValue};
