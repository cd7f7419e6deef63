//! Console sign-in of RAM users: password against the login profile and the password
//! policy, MFA (verify, or bind a new virtual device when MFA is enforced), forced password
//! change, then a console session; plus the session checks the server's console endpoints
//! use and the administrator actions `ListConsoleSessions` / `RevokeConsoleSessions`.
//!
//! No HTTP here: `cloudward_server::console` turns these results into responses, cookies
//! and one `ConsoleSignin` audit event per step.
//!
//! Steps are chained by **tickets**: 32 random bytes, handed to the browser once, stored
//! only as a SHA-256 digest, valid [`TICKET_TTL_MS`], good for one named step and taken
//! (deleted) by the statement that reads them, so each is used once. Sessions are the
//! same kind of secret with a longer life. Passwords are compared by Argon2id, codes and
//! CSRF tokens in constant time; none of them is logged or returned in an error.
//!
//! Lock rules (see `docs/ram.md`, "Console sign-in"):
//! * `MaxLoginAttemps` failures (wrong password or MFA code) within
//!   [`FAILURE_WINDOW_MS`] lock the user for [`LOCK_DURATION_MS`];
//! * failures from at least [`LEAK_DISTINCT_ADDRESSES`] distinct addresses within
//!   [`FAILURE_WINDOW_MS`] mean the password has probably leaked: the user is locked until
//!   an administrator sets a new password (`UpdateLoginProfile` with `Password`).

use std::net::IpAddr;

use cloudward_protocol::ApiError;
use cloudward_service::{
    Call, HandlerFuture, Principal, PrincipalKind, ServiceState, random_bytes,
};
use cloudward_store::{
    ConsoleSessionRecord, LoginProfileRecord, LoginProfileStatus, MfaDeviceRecord,
    SigninTicketRecord, Store, UserRecord,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::account::{SecurityPreference, network_allows, security_preference_of};
use super::login::{
    PasswordPolicy, check_new_password, hash_password, password_policy_of, remember_password,
    verify_password,
};
use super::{MAX_MFA_DEVICES, account, totp};
use crate::util::{self, entity_not_exist, invalid};

/// How long a ticket between two sign-in steps is valid.
pub const TICKET_TTL_MS: i64 = 5 * 60 * 1000;
/// The window in which failed sign-ins are counted (`MaxLoginAttemps` is "per hour").
pub const FAILURE_WINDOW_MS: i64 = 60 * 60 * 1000;
/// How long a user stays locked after `MaxLoginAttemps` failures.
pub const LOCK_DURATION_MS: i64 = 60 * 60 * 1000;
/// Failures from this many distinct source addresses within [`FAILURE_WINDOW_MS`] are
/// taken as a sign that the password leaked: the user is locked until a password reset.
/// Five is above what one person produces (home, office, phone network, VPN) and far below
/// what a credential-stuffing botnet produces.
pub const LEAK_DISTINCT_ADDRESSES: i64 = 5;
/// The `userIdentity.accessKeyId` prefix of calls made through a console session
/// (followed by the public session id; the session token itself is never recorded).
pub const CONSOLE_ACCESS_KEY_PREFIX: &str = "CONSOLE.";

/// The step a ticket leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Enter a code of the bound MFA device.
    Mfa,
    /// Bind the virtual MFA device created for this sign-in (two consecutive codes).
    BindMfa,
    /// Set a new password (reset required, or expired without hard expiry).
    ChangePassword,
}

impl Stage {
    /// Wire name (`MFA`, `BindMFA`, `ChangePassword`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Mfa => "MFA",
            Stage::BindMfa => "BindMFA",
            Stage::ChangePassword => "ChangePassword",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "MFA" => Some(Stage::Mfa),
            "BindMFA" => Some(Stage::BindMfa),
            "ChangePassword" => Some(Stage::ChangePassword),
            _ => None,
        }
    }
}

/// The secret material of the virtual MFA device created during sign-in, shown once.
pub struct BindMaterial {
    /// `acs:ram::<account>:mfa/<name>`.
    pub serial_number: String,
    /// The seed, Base32 (for manual entry in an authenticator app).
    pub base32_seed: Zeroizing<String>,
    /// `otpauth://totp/…` URI with the seed.
    pub otpauth_uri: Zeroizing<String>,
}

impl std::fmt::Debug for BindMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BindMaterial")
            .field("serial_number", &self.serial_number)
            .finish_non_exhaustive()
    }
}

/// A newly signed-in console session.
pub struct IssuedSession {
    /// The token for the cookie (43 characters of URL-safe Base64; only its digest is stored).
    pub token: Zeroizing<String>,
    /// The CSRF token derived from it, for the page to send in `X-CSRF-Token`.
    pub csrf_token: String,
    /// The stored session.
    pub record: ConsoleSessionRecord,
    /// The user's name.
    pub user_name: String,
}

impl std::fmt::Debug for IssuedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSession")
            .field("record", &self.record)
            .field("user_name", &self.user_name)
            .finish_non_exhaustive()
    }
}

/// What a successful step leads to.
#[derive(Debug)]
pub enum Next {
    /// Another step, with its ticket.
    Step {
        /// The step.
        stage: Stage,
        /// The single-use ticket for it.
        ticket: Zeroizing<String>,
        /// Ticket expiry, ms.
        expires_at_ms: i64,
        /// For [`Stage::BindMfa`]: the new device's seed.
        bind: Option<BindMaterial>,
    },
    /// Signed in.
    Session(Box<IssuedSession>),
}

/// Who an attempt was about, for its `ConsoleSignin` audit event.
#[derive(Clone, Debug, Default)]
pub struct AttemptFacts {
    /// The sign-in name as typed (`user@account`), or `user@<account id>` for later steps.
    pub login_account: String,
    /// The account, once resolved.
    pub account_id: Option<String>,
    /// The user `(user_id, user_name)`, once resolved.
    pub user: Option<(String, String)>,
    /// Whether an MFA code was checked successfully in this sign-in so far.
    pub mfa_checked: bool,
    /// The step attempted: `Password`, `MFA`, `BindMFA`, `ChangePassword`.
    pub step: &'static str,
}

/// The outcome of one sign-in step.
#[derive(Debug)]
pub struct Attempt {
    /// Facts for the audit event.
    pub facts: AttemptFacts,
    /// The next step or session, or why the step failed.
    pub result: Result<Next, ApiError>,
    /// After a correctable failure (a mistyped code, a too weak new password): a fresh
    /// ticket for the same step, so the user need not start again.
    pub retry_ticket: Option<Zeroizing<String>>,
}

impl Attempt {
    fn fail(facts: AttemptFacts, err: ApiError) -> Self {
        Self {
            facts,
            result: Err(err),
            retry_ticket: None,
        }
    }
}

/// Where a sign-in request came from.
#[derive(Clone, Debug)]
pub struct Client {
    /// Source address.
    pub source_ip: IpAddr,
    /// `User-Agent` (truncated by the server).
    pub user_agent: String,
}

// ---------------------------------------------------------------------------------------
// Error codes (documented in docs/ram.md).

/// Unknown account or user, no login profile, or a wrong password: one answer for all, so
/// the response does not tell which.
pub fn failed() -> ApiError {
    ApiError::new(
        "Signin.Failed",
        401,
        "The account name or the password is incorrect.",
    )
}

fn locked(until_ms: i64) -> ApiError {
    ApiError::new(
        "Signin.UserLocked",
        403,
        format!(
            "Too many failed sign-in attempts: the user is locked until {}.",
            util::iso8601(until_ms)
        ),
    )
}

fn leak_locked() -> ApiError {
    ApiError::new(
        "Signin.UserLockedUntilReset",
        403,
        "Failed sign-ins from many addresses suggest the password has leaked: the user is locked until an administrator resets the password.",
    )
}

fn inactive() -> ApiError {
    ApiError::new(
        "Signin.LoginProfileInactive",
        403,
        "The login profile of the user is inactive.",
    )
}

fn hard_expired() -> ApiError {
    ApiError::new(
        "Signin.PasswordExpired",
        403,
        "The password has expired: an administrator must reset it.",
    )
}

fn ip_not_allowed() -> ApiError {
    ApiError::new(
        "Signin.SourceIpNotAllowed",
        403,
        "Sign-in from this address is not allowed by the account's LoginNetworkMasks.",
    )
}

/// An unknown, expired or already used ticket, or one for another step.
pub fn invalid_ticket() -> ApiError {
    ApiError::new(
        "Signin.InvalidTicket",
        401,
        "The sign-in ticket is invalid or expired: start again with the password.",
    )
}

fn code_fail() -> ApiError {
    invalid(
        "CheckAuthenticationCodeFail",
        "The MFA authentication code is not correct.",
    )
}

// ---------------------------------------------------------------------------------------
// Secrets.

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 random bytes as URL-safe Base64 without padding.
fn new_secret() -> Result<Zeroizing<String>, ApiError> {
    use base64::Engine as _;
    let bytes = Zeroizing::new(random_bytes::<32>().map_err(|_| ApiError::internal())?);
    Ok(Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_slice()),
    ))
}

/// The stored form of a ticket or session token: SHA-256, hex.
pub fn token_digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The CSRF token of a session: derived from the session token with a different hash
/// input, so the server needs no copy and knowing it reveals nothing about the token.
pub fn csrf_token(session_token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"cloudward console csrf\0");
    hasher.update(session_token.as_bytes());
    hex(&hasher.finalize())
}

/// Whether `presented` is the CSRF token of `session_token` (constant time).
pub fn csrf_matches(session_token: &str, presented: &str) -> bool {
    csrf_token(session_token)
        .as_bytes()
        .ct_eq(presented.as_bytes())
        .into()
}

/// A syntactically valid Argon2id hash of no password anyone knows, verified against when
/// the user does not exist so that the answer takes as long as for a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let secret = random_bytes::<16>().map(|b| hex(&b)).unwrap_or_default();
        hash_password(&secret).unwrap_or_default()
    })
}

// ---------------------------------------------------------------------------------------
// Steps.

/// `user@<account id>`, `user@<alias>`, `user@<alias or id>.onaliyun.com` → (account, user).
async fn resolve_login(store: &Store, login: &str) -> Result<Option<(String, String)>, ApiError> {
    let Some((user, domain)) = login.trim().rsplit_once('@') else {
        return Ok(None);
    };
    let domain = domain.to_ascii_lowercase();
    let domain = domain.strip_suffix(".onaliyun.com").unwrap_or(&domain);
    if user.is_empty() || domain.is_empty() || user.len() > 64 || domain.len() > 64 {
        return Ok(None);
    }
    let account = if domain.bytes().all(|b| b.is_ascii_digit()) {
        store
            .get_account(domain)
            .await
            .map_err(util::store_error)?
            .map(|a| a.account_id)
    } else {
        store
            .find_account_by_alias(domain)
            .await
            .map_err(util::store_error)?
    };
    Ok(account.map(|a| (a, user.to_owned())))
}

fn now(state: &ServiceState) -> i64 {
    util::now_ms(state)
}

/// The lock refusing sign-in now, if any.
fn lock_error(profile: &LoginProfileRecord, now: i64) -> Option<ApiError> {
    if profile.leak_locked_at_ms.is_some() {
        return Some(leak_locked());
    }
    match profile.locked_until_ms {
        Some(until) if until > now => Some(locked(until)),
        _ => None,
    }
}

/// Records a failure and applies the lock rules; returns the lock error if this failure
/// locked the user.
async fn record_failure(
    store: &Store,
    policy: &PasswordPolicy,
    profile: &LoginProfileRecord,
    client: &Client,
    now: i64,
) -> Result<Option<ApiError>, ApiError> {
    let (acct, user) = (&profile.account_id, &profile.user_id);
    store
        .record_signin_failure(acct, user, &client.source_ip.to_string(), now)
        .await
        .map_err(util::store_error)?;
    let (count, addresses) = store
        .signin_failures_since(acct, user, now - FAILURE_WINDOW_MS + 1)
        .await
        .map_err(util::store_error)?;
    if addresses >= LEAK_DISTINCT_ADDRESSES {
        if profile.leak_locked_at_ms.is_none() {
            tracing::warn!(
                account_id = %acct,
                user_id = %user,
                addresses,
                "sign-in failures from many addresses: user locked until password reset"
            );
        }
        store
            .set_login_lock(
                acct,
                user,
                profile.locked_until_ms,
                Some(profile.leak_locked_at_ms.unwrap_or(now)),
            )
            .await
            .map_err(util::store_error)?;
        return Ok(Some(leak_locked()));
    }
    let already_locked = profile.locked_until_ms.is_some_and(|until| until > now);
    if policy.max_login_attempts > 0 && count >= policy.max_login_attempts && !already_locked {
        let until = now + LOCK_DURATION_MS;
        store
            .set_login_lock(acct, user, Some(until), None)
            .await
            .map_err(util::store_error)?;
        return Ok(Some(locked(until)));
    }
    Ok(None)
}

/// Whether the password must be changed before a session is issued; `Err` for a hard
/// expiry.
fn must_change(
    policy: &PasswordPolicy,
    profile: &LoginProfileRecord,
    now: i64,
) -> Result<bool, ApiError> {
    let expired = policy.max_password_age > 0
        && now - profile.password_changed_at_ms >= policy.max_password_age * 86_400_000;
    if expired && policy.hard_expiry {
        return Err(hard_expired());
    }
    Ok(expired || profile.password_reset_required)
}

/// Everything a step needs about the user.
struct Subject {
    user: UserRecord,
    profile: LoginProfileRecord,
    policy: PasswordPolicy,
    preference: SecurityPreference,
}

async fn load_subject(
    store: &Store,
    account_id: &str,
    user_id: &str,
) -> Result<Option<Subject>, ApiError> {
    let Some(user) = store
        .get_user_by_id(account_id, user_id)
        .await
        .map_err(util::store_error)?
    else {
        return Ok(None);
    };
    let Some(profile) = store
        .get_login_profile(account_id, user_id)
        .await
        .map_err(util::store_error)?
    else {
        return Ok(None);
    };
    Ok(Some(Subject {
        user,
        profile,
        policy: password_policy_of(store, account_id).await?,
        preference: security_preference_of(store, account_id).await?,
    }))
}

fn facts_for(subject: &Subject, step: &'static str, mfa_checked: bool) -> AttemptFacts {
    AttemptFacts {
        login_account: format!("{}@{}", subject.user.user_name, subject.user.account_id),
        account_id: Some(subject.user.account_id.clone()),
        user: Some((subject.user.user_id.clone(), subject.user.user_name.clone())),
        mfa_checked,
        step,
    }
}

/// Step 1: account name and password.
pub async fn sign_in_password(
    state: &ServiceState,
    login_account: &str,
    password: &str,
    client: &Client,
) -> Attempt {
    let mut facts = AttemptFacts {
        login_account: login_account.chars().take(128).collect(),
        step: "Password",
        ..AttemptFacts::default()
    };
    match password_step(state, login_account, password, client, &mut facts).await {
        Ok(next) => Attempt {
            facts,
            result: Ok(next),
            retry_ticket: None,
        },
        Err(err) => Attempt::fail(facts, err),
    }
}

async fn password_step(
    state: &ServiceState,
    login_account: &str,
    password: &str,
    client: &Client,
    facts: &mut AttemptFacts,
) -> Result<Next, ApiError> {
    let store = &state.store;
    let now = now(state);
    let Some((account_id, user_name)) = resolve_login(store, login_account).await? else {
        verify_password(password, dummy_hash());
        return Err(failed());
    };
    facts.account_id = Some(account_id.clone());
    let preference = security_preference_of(store, &account_id).await?;
    if !network_allows(&preference.login_network_masks, client.source_ip) {
        return Err(ip_not_allowed());
    }
    let user = store
        .get_user(&account_id, &user_name)
        .await
        .map_err(util::store_error)?;
    let subject = match &user {
        Some(user) => load_subject(store, &account_id, &user.user_id).await?,
        None => None,
    };
    let Some(subject) = subject else {
        verify_password(password, dummy_hash());
        return Err(failed());
    };
    *facts = AttemptFacts {
        login_account: facts.login_account.clone(),
        ..facts_for(&subject, "Password", false)
    };
    if let Some(err) = lock_error(&subject.profile, now) {
        // Still counted: attempts against a locked user from many addresses are exactly
        // the leak signal.
        record_failure(store, &subject.policy, &subject.profile, client, now).await?;
        return Err(err);
    }
    if !verify_password(password, &subject.profile.password_hash) {
        let lock = record_failure(store, &subject.policy, &subject.profile, client, now).await?;
        return Err(lock.unwrap_or_else(failed));
    }
    if subject.profile.status == LoginProfileStatus::Inactive {
        return Err(inactive());
    }
    let change = must_change(&subject.policy, &subject.profile, now)?;
    let device = store
        .get_mfa_device_for_user(&account_id, &subject.user.user_id)
        .await
        .map_err(util::store_error)?;
    if let Some(device) = device {
        return issue_ticket(
            store,
            &subject,
            Stage::Mfa,
            false,
            Some(device.device_name),
            None,
            now,
        )
        .await;
    }
    if subject.preference.enforce_mfa_for_login || subject.profile.mfa_bind_required {
        let (device_name, material) = create_signin_device(state, &subject, now).await?;
        return issue_ticket(
            store,
            &subject,
            Stage::BindMfa,
            false,
            Some(device_name),
            Some(material),
            now,
        )
        .await;
    }
    if change {
        return issue_ticket(
            store,
            &subject,
            Stage::ChangePassword,
            false,
            None,
            None,
            now,
        )
        .await;
    }
    issue_session(state, &subject, false, client, now).await
}

async fn issue_ticket(
    store: &Store,
    subject: &Subject,
    stage: Stage,
    mfa_verified: bool,
    device_name: Option<String>,
    bind: Option<BindMaterial>,
    now: i64,
) -> Result<Next, ApiError> {
    let ticket = new_secret()?;
    let expires_at_ms = now + TICKET_TTL_MS;
    store
        .insert_signin_ticket(&SigninTicketRecord {
            ticket_digest: token_digest(&ticket),
            account_id: subject.user.account_id.clone(),
            user_id: subject.user.user_id.clone(),
            stage: stage.as_str().to_owned(),
            mfa_verified,
            device_name,
            created_at_ms: now,
            expires_at_ms,
        })
        .await
        .map_err(util::store_error)?;
    Ok(Next::Step {
        stage,
        ticket,
        expires_at_ms,
        bind,
    })
}

/// Creates the virtual MFA device a user binds during sign-in. It is named after the user;
/// an unbound device of that name (left by an abandoned sign-in) is replaced, a bound one
/// of another user makes the name `<user>-<random>`.
async fn create_signin_device(
    state: &ServiceState,
    subject: &Subject,
    now: i64,
) -> Result<(String, BindMaterial), ApiError> {
    let store = &state.store;
    let acct = &subject.user.account_id;
    let mut name = subject.user.user_name.clone();
    if let Some(existing) = store
        .get_mfa_device(acct, &name)
        .await
        .map_err(util::store_error)?
    {
        if existing.user_id.is_none() {
            store
                .delete_mfa_device(acct, &name)
                .await
                .map_err(util::store_error)?;
        } else {
            let suffix = random_bytes::<3>().map_err(|_| ApiError::internal())?;
            name = format!(
                "{}-{}",
                name.chars().take(56).collect::<String>(),
                hex(&suffix)
            );
        }
    }
    let serial = format!("acs:ram::{acct}:mfa/{name}");
    let seed = Zeroizing::new(random_bytes::<20>().map_err(|_| ApiError::internal())?);
    let sealed = state
        .secrets
        .seal(seed.as_slice(), serial.as_bytes())
        .map_err(|_| ApiError::internal())?;
    let inserted = store
        .insert_mfa_device(
            &MfaDeviceRecord {
                account_id: acct.clone(),
                device_name: name.clone(),
                serial_number: serial.clone(),
                seed_ciphertext: sealed,
                created_at_ms: now,
                user_id: None,
                activated_at_ms: None,
                last_used_step: None,
            },
            MAX_MFA_DEVICES,
        )
        .await
        .map_err(util::store_error)?;
    if !inserted {
        return Err(util::limit_exceeded(
            "VirtualMFADevice",
            format!(
                "The count of virtual MFA devices beyond the current limits ({MAX_MFA_DEVICES})."
            ),
        ));
    }
    let base32 = Zeroizing::new(totp::base32_encode(seed.as_slice()));
    let uri = Zeroizing::new(format!(
        "otpauth://totp/{name}@{acct}?secret={}&issuer=Cloudward&algorithm=SHA1&digits=6&period=30",
        base32.as_str()
    ));
    Ok((
        name,
        BindMaterial {
            serial_number: serial,
            base32_seed: base32,
            otpauth_uri: uri,
        },
    ))
}

async fn issue_session(
    state: &ServiceState,
    subject: &Subject,
    mfa_present: bool,
    client: &Client,
    now: i64,
) -> Result<Next, ApiError> {
    let store = &state.store;
    let token = new_secret()?;
    let id = random_bytes::<16>().map_err(|_| ApiError::internal())?;
    let hours = subject.preference.login_session_duration.clamp(1, 24);
    let record = ConsoleSessionRecord {
        session_id: format!("cs-{}", hex(&id)),
        token_digest: token_digest(&token),
        account_id: subject.user.account_id.clone(),
        user_id: subject.user.user_id.clone(),
        mfa_present,
        source_ip: client.source_ip.to_string(),
        user_agent: client.user_agent.clone(),
        created_at_ms: now,
        expires_at_ms: now + hours * 3_600_000,
        revoked_at_ms: None,
    };
    store
        .insert_console_session(&record)
        .await
        .map_err(util::store_error)?;
    store
        .record_login_success(&record.account_id, &record.user_id, now)
        .await
        .map_err(util::store_error)?;
    Ok(Next::Session(Box::new(IssuedSession {
        csrf_token: csrf_token(&token),
        token,
        record,
        user_name: subject.user.user_name.clone(),
    })))
}

/// A ticket taken for `stage`, with its user re-checked (still existing, not locked, active).
async fn take_ticket(
    state: &ServiceState,
    ticket: &str,
    stage: Stage,
    facts: &mut AttemptFacts,
) -> Result<(SigninTicketRecord, Subject), ApiError> {
    let store = &state.store;
    let now = now(state);
    let record = store
        .take_signin_ticket(&token_digest(ticket), now)
        .await
        .map_err(util::store_error)?
        .ok_or_else(invalid_ticket)?;
    let Some(subject) = load_subject(store, &record.account_id, &record.user_id).await? else {
        return Err(invalid_ticket());
    };
    *facts = facts_for(&subject, stage.as_str(), record.mfa_verified);
    if Stage::parse(&record.stage) != Some(stage) {
        return Err(invalid_ticket());
    }
    if let Some(err) = lock_error(&subject.profile, now) {
        return Err(err);
    }
    if subject.profile.status == LoginProfileStatus::Inactive {
        return Err(inactive());
    }
    Ok((record, subject))
}

/// After MFA was checked (or bound): a password change if required, else the session.
async fn after_mfa(
    state: &ServiceState,
    subject: &Subject,
    client: &Client,
) -> Result<Next, ApiError> {
    let now = now(state);
    if must_change(&subject.policy, &subject.profile, now)? {
        return issue_ticket(
            &state.store,
            subject,
            Stage::ChangePassword,
            true,
            None,
            None,
            now,
        )
        .await;
    }
    issue_session(state, subject, true, client, now).await
}

/// A fresh ticket for the same step after a correctable mistake (none once locked).
async fn retry(
    state: &ServiceState,
    record: &SigninTicketRecord,
    subject: &Subject,
) -> Option<Zeroizing<String>> {
    let stage = Stage::parse(&record.stage)?;
    let now = now(state);
    match issue_ticket(
        &state.store,
        subject,
        stage,
        record.mfa_verified,
        record.device_name.clone(),
        None,
        now,
    )
    .await
    {
        Ok(Next::Step { ticket, .. }) => Some(ticket),
        _ => None,
    }
}

fn check_code_format(code: &str) -> Result<(), ApiError> {
    if code.len() == totp::DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid(
            "InvalidParameter.AuthenticationCode.Format",
            "The authentication code must be 6 digits.",
        ))
    }
}

fn device_seed(
    state: &ServiceState,
    device: &MfaDeviceRecord,
) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    state
        .secrets
        .open(&device.seed_ciphertext, device.serial_number.as_bytes())
        .map(|seed| Zeroizing::new(seed.to_vec()))
        .map_err(|_| ApiError::internal())
}

/// Step 2a: a code of the bound MFA device.
pub async fn sign_in_mfa(
    state: &ServiceState,
    ticket: &str,
    code: &str,
    client: &Client,
) -> Attempt {
    let mut facts = AttemptFacts {
        step: Stage::Mfa.as_str(),
        ..AttemptFacts::default()
    };
    let (record, subject) = match take_ticket(state, ticket, Stage::Mfa, &mut facts).await {
        Ok(pair) => pair,
        Err(err) => return Attempt::fail(facts, err),
    };
    let outcome = async {
        check_code_format(code)?;
        let store = &state.store;
        let device = store
            .get_mfa_device_for_user(&subject.user.account_id, &subject.user.user_id)
            .await
            .map_err(util::store_error)?
            .ok_or_else(invalid_ticket)?;
        let seed = device_seed(state, &device)?;
        let now = now(state);
        let now_step = totp::step_at(now.div_euclid(1000));
        let last = device.last_used_step;
        let matched = (now_step - 1..=now_step + 1)
            .filter(|&step| last.is_none_or(|used| step > used))
            .find(|&step| totp::matches(&seed, step, code));
        let accepted = match matched {
            Some(step) => store
                .advance_mfa_step(&device.account_id, &device.device_name, step)
                .await
                .map_err(util::store_error)?,
            None => false,
        };
        if !accepted {
            let lock =
                record_failure(store, &subject.policy, &subject.profile, client, now).await?;
            return Err(lock.unwrap_or_else(code_fail));
        }
        after_mfa(state, &subject, client).await
    }
    .await;
    finish_step(state, facts, outcome, &record, &subject, true).await
}

/// Step 2b: bind the device created at the password step with two consecutive codes.
pub async fn sign_in_bind_mfa(
    state: &ServiceState,
    ticket: &str,
    code1: &str,
    code2: &str,
    client: &Client,
) -> Attempt {
    let mut facts = AttemptFacts {
        step: Stage::BindMfa.as_str(),
        ..AttemptFacts::default()
    };
    let (record, subject) = match take_ticket(state, ticket, Stage::BindMfa, &mut facts).await {
        Ok(pair) => pair,
        Err(err) => return Attempt::fail(facts, err),
    };
    let outcome = async {
        check_code_format(code1)?;
        check_code_format(code2)?;
        let store = &state.store;
        let acct = &subject.user.account_id;
        let device_name = record.device_name.as_deref().ok_or_else(invalid_ticket)?;
        let device = store
            .get_mfa_device(acct, device_name)
            .await
            .map_err(util::store_error)?
            .filter(|d| d.user_id.is_none())
            .ok_or_else(invalid_ticket)?;
        let seed = device_seed(state, &device)?;
        let now = now(state);
        let step = totp::step_at(now.div_euclid(1000));
        let Some(used) = totp::verify_consecutive(&seed, step, code1, code2, device.last_used_step)
        else {
            let lock =
                record_failure(store, &subject.policy, &subject.profile, client, now).await?;
            return Err(lock.unwrap_or_else(code_fail));
        };
        let bound = store
            .bind_mfa_device(acct, device_name, &subject.user.user_id, now, used)
            .await
            .map_err(|e| {
                super::conflict(
                    e,
                    "User.MFADevice",
                    "The user has already bound an MFA device.",
                )
            })?;
        if !bound {
            return Err(invalid_ticket());
        }
        after_mfa(state, &subject, client).await
    }
    .await;
    finish_step(state, facts, outcome, &record, &subject, true).await
}

/// Step 3: a new password (reset required, or expired without hard expiry).
pub async fn sign_in_change_password(
    state: &ServiceState,
    ticket: &str,
    new_password: &str,
    client: &Client,
) -> Attempt {
    let mut facts = AttemptFacts {
        step: Stage::ChangePassword.as_str(),
        ..AttemptFacts::default()
    };
    let (record, subject) =
        match take_ticket(state, ticket, Stage::ChangePassword, &mut facts).await {
            Ok(pair) => pair,
            Err(err) => return Attempt::fail(facts, err),
        };
    let outcome = async {
        let store = &state.store;
        let acct = &subject.user.account_id;
        let user_id = &subject.user.user_id;
        let now = now(state);
        let mut profile = subject.profile.clone();
        profile.password_hash =
            check_new_password(store, &subject.policy, acct, user_id, new_password).await?;
        profile.password_reset_required = false;
        profile.password_changed_at_ms = now;
        profile.updated_at_ms = now;
        store
            .update_login_profile(&profile)
            .await
            .map_err(util::store_error)?;
        remember_password(store, acct, user_id, &profile.password_hash, now).await?;
        let updated = Subject {
            user: subject.user.clone(),
            profile,
            policy: subject.policy.clone(),
            preference: subject.preference.clone(),
        };
        issue_session(state, &updated, record.mfa_verified, client, now).await
    }
    .await;
    let mfa = record.mfa_verified;
    finish_step(state, facts, outcome, &record, &subject, mfa).await
}

/// Sets the facts and, after a correctable error, a retry ticket.
async fn finish_step(
    state: &ServiceState,
    mut facts: AttemptFacts,
    outcome: Result<Next, ApiError>,
    record: &SigninTicketRecord,
    subject: &Subject,
    mfa_on_success: bool,
) -> Attempt {
    match outcome {
        Ok(next) => {
            facts.mfa_checked = facts.mfa_checked || mfa_on_success;
            Attempt {
                facts,
                result: Ok(next),
                retry_ticket: None,
            }
        }
        Err(err) => {
            let correctable = matches!(
                err.code.as_str(),
                "CheckAuthenticationCodeFail"
                    | "InvalidParameter.AuthenticationCode.Format"
                    | "InvalidParameter.Password.TooWeak"
                    | "InvalidParameter.Password.Reused"
            );
            let retry_ticket = if correctable {
                retry(state, record, subject).await
            } else {
                None
            };
            Attempt {
                facts,
                result: Err(err),
                retry_ticket,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Sessions.

/// A live console session and the principal it stands for.
#[derive(Clone, Debug)]
pub struct ConsoleSubject {
    /// The signed-in user as a principal (`access_key_id` = `CONSOLE.<session id>`).
    pub principal: Principal,
    /// The session.
    pub session: ConsoleSessionRecord,
}

/// The live session of a cookie token: known, not revoked, not expired, and its user still
/// has an active login profile. `None` means "not signed in".
pub async fn session_for_token(
    state: &ServiceState,
    token: &str,
) -> Result<Option<ConsoleSubject>, ApiError> {
    let store = &state.store;
    let Some(session) = store
        .find_console_session(&token_digest(token))
        .await
        .map_err(util::store_error)?
    else {
        return Ok(None);
    };
    if session.revoked_at_ms.is_some() || session.expires_at_ms <= now(state) {
        return Ok(None);
    }
    let Some(user) = store
        .get_user_by_id(&session.account_id, &session.user_id)
        .await
        .map_err(util::store_error)?
    else {
        return Ok(None);
    };
    let active = store
        .get_login_profile(&session.account_id, &session.user_id)
        .await
        .map_err(util::store_error)?
        .is_some_and(|p| p.status == LoginProfileStatus::Active && p.leak_locked_at_ms.is_none());
    if !active {
        return Ok(None);
    }
    Ok(Some(ConsoleSubject {
        principal: Principal {
            account_id: session.account_id.clone(),
            kind: PrincipalKind::User {
                user_id: user.user_id,
                user_name: user.user_name,
            },
            access_key_id: format!("{CONSOLE_ACCESS_KEY_PREFIX}{}", session.session_id),
        },
        session,
    }))
}

/// Ends the session of a cookie token; returns whether a live one was ended.
pub async fn sign_out(state: &ServiceState, token: &str) -> Result<bool, ApiError> {
    state
        .store
        .revoke_console_session_by_token(&token_digest(token), now(state))
        .await
        .map_err(util::store_error)
}

// ---------------------------------------------------------------------------------------
// Administrator actions (RAM 2015-05-01 extensions).

async fn optional_user_id(call: &Call<'_>) -> Result<Option<UserRecord>, ApiError> {
    match util::optional(call.params, "UserName") {
        None => Ok(None),
        Some(name) => super::user_by_name(call, name).await.map(Some),
    }
}

/// `ListConsoleSessions` (`UserName` optional): live sessions, newest first.
pub(super) fn list_console_sessions(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let store = &call.state.store;
        let acct = account(&call);
        let user = optional_user_id(&call).await?;
        let sessions = store
            .list_console_sessions(
                acct,
                user.as_ref().map(|u| u.user_id.as_str()),
                now(call.state),
            )
            .await
            .map_err(util::store_error)?;
        let mut items: Vec<Value> = Vec::with_capacity(sessions.len());
        for s in sessions {
            let name = match &user {
                Some(u) => Some(u.user_name.clone()),
                None => store
                    .get_user_by_id(acct, &s.user_id)
                    .await
                    .map_err(util::store_error)?
                    .map(|u| u.user_name),
            };
            items.push(json!({
                "SessionId": s.session_id,
                "UserId": s.user_id,
                "UserName": name.unwrap_or_default(),
                "MFAPresent": s.mfa_present,
                "SourceIp": s.source_ip,
                "UserAgent": s.user_agent,
                "CreateDate": util::iso8601(s.created_at_ms),
                "ExpireDate": util::iso8601(s.expires_at_ms),
            }));
        }
        Ok(json!({ "ConsoleSessions": { "ConsoleSession": items } }))
    })
}

/// `RevokeConsoleSessions` (`UserName` and/or `SessionId`, at least one).
pub(super) fn revoke_console_sessions(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let session_id = util::optional(call.params, "SessionId");
        let user = optional_user_id(&call).await?;
        if user.is_none() && session_id.is_none() {
            return Err(util::missing("UserName or SessionId"));
        }
        let revoked = call
            .state
            .store
            .revoke_console_sessions(
                account(&call),
                user.as_ref().map(|u| u.user_id.as_str()),
                session_id,
                now(call.state),
            )
            .await
            .map_err(util::store_error)?;
        if revoked == 0 && session_id.is_some() {
            return Err(entity_not_exist(
                "ConsoleSession",
                "The console session does not exist or has already ended.",
            ));
        }
        Ok(json!({ "RevokedCount": revoked }))
    })
}
