//! Who is calling, and the facts about the call the policy engine conditions on.

use std::net::IpAddr;

/// The kind of identity behind an authenticated call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root identity (full rights in its own account).
    Root,
    /// A RAM user.
    User {
        /// Stable user id.
        user_id: String,
        /// User name.
        user_name: String,
    },
    /// A role session created by STS `AssumeRole`.
    AssumedRole {
        /// Stable role id.
        role_id: String,
        /// Role name.
        role_name: String,
        /// `RoleSessionName` given to `AssumeRole`.
        session_name: String,
    },
}

/// An authenticated identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The account the identity belongs to.
    pub account_id: String,
    /// Root, user, or role session.
    pub kind: PrincipalKind,
    /// The AccessKeyId the request was signed with.
    pub access_key_id: String,
}

impl Principal {
    /// The identity's ARN as Alibaba Cloud writes it (`acs:ram::<acct>:root`,
    /// `acs:ram::<acct>:user/<name>`, `acs:ram::<acct>:assumed-role/<role>/<session>`).
    pub fn arn(&self) -> String {
        match &self.kind {
            PrincipalKind::Root => format!("acs:ram::{}:root", self.account_id),
            PrincipalKind::User { user_name, .. } => {
                format!("acs:ram::{}:user/{}", self.account_id, user_name)
            }
            PrincipalKind::AssumedRole {
                role_name,
                session_name,
                ..
            } => format!(
                "acs:ram::{}:assumed-role/{}/{}",
                self.account_id,
                // Alibaba prints role names in ARNs in lower case (AssumeRole answers the same).
                role_name.to_ascii_lowercase(),
                session_name
            ),
        }
    }

    /// The principal id of GetCallerIdentity and ActionTrail's `userIdentity.principalId`.
    pub fn principal_id(&self) -> String {
        match &self.kind {
            PrincipalKind::Root => self.account_id.clone(),
            PrincipalKind::User { user_id, .. } => user_id.clone(),
            PrincipalKind::AssumedRole {
                role_id,
                session_name,
                ..
            } => format!("{role_id}:{session_name}"),
        }
    }
}

/// Facts about one call, independent of who made it.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// Request id returned in the response and recorded in the audit event.
    pub request_id: String,
    /// The caller's address (`acs:SourceIp`).
    pub source_ip: IpAddr,
    /// Whether the call arrived over TLS (`acs:SecureTransport`).
    pub secure_transport: bool,
    /// When the call arrived (`acs:CurrentTime`).
    pub received_at: time::OffsetDateTime,
    /// `User-Agent` header, for the audit trail.
    pub user_agent: String,
    /// Whether the session was established with MFA (`acs:MFAPresent`).
    pub mfa_present: bool,
}

/// A principal whose request signature has been verified, with its request context.
///
/// **Invariant:** only authentication code constructs this value — the server's signature
/// check (`server::auth`, [`Authenticated::after_signature_verified`]) after the signature,
/// clock window, nonce and credential status have all been checked, and the console's
/// session check (`server::console`, [`Authenticated::after_console_session_verified`])
/// after the session token's digest matched a live, unrevoked, unexpired session of an
/// active login profile. Handlers never build one: they receive an `Authorized`, which
/// only the authorizer makes from an `Authenticated`. Tests and benchmarks also call the
/// constructors, to stand in for the authentication step.
#[derive(Clone, Debug)]
pub struct Authenticated {
    principal: Principal,
    context: RequestContext,
}

impl Authenticated {
    /// Wraps a verified principal. Call this only after verifying the request signature.
    pub fn after_signature_verified(principal: Principal, context: RequestContext) -> Self {
        Self { principal, context }
    }

    /// Wraps the user of a console session. Call this only after the session token
    /// presented by the browser was matched (by digest) to a live session; the context's
    /// `mfa_present` must be whether MFA was checked when that session was signed in.
    pub fn after_console_session_verified(principal: Principal, context: RequestContext) -> Self {
        Self { principal, context }
    }

    /// The caller.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The call's facts.
    pub fn context(&self) -> &RequestContext {
        &self.context
    }
}
