//! Console login profiles, `ChangePassword`, and the account's password policy.
//!
//! Passwords are stored only as Argon2id PHC strings (random salt, the crate's default
//! parameters); verification is done by the `argon2` crate in constant time.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture, PrincipalKind};
use cloudward_store::{LoginProfileRecord, LoginProfileStatus, Store};
use serde_json::{Value, json};

use super::{account, user_by_name};
use crate::util::{
    self, entity_already_exists, entity_not_exist, invalid, optional, optional_bool, optional_int,
    required,
};

const PASSWORD_POLICY: &str = "password_policy";

/// The account's password policy. Defaults (no policy set yet) are deliberately strong:
/// at least 8 characters with lower case, upper case and digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// 8..=32.
    pub minimum_password_length: i64,
    /// Needs a lower-case letter.
    pub require_lowercase_characters: bool,
    /// Needs an upper-case letter.
    pub require_uppercase_characters: bool,
    /// Needs a digit.
    pub require_numbers: bool,
    /// Needs a symbol.
    pub require_symbols: bool,
    /// Whether an expired password blocks logon until an administrator resets it.
    pub hard_expiry: bool,
    /// Days a password is valid (0 = never expires), 0..=1095.
    pub max_password_age: i64,
    /// Previous passwords that cannot be reused, 0..=24.
    pub password_reuse_prevention: i64,
    /// Failed logons per hour before lockout, 0..=32 (spelled `MaxLoginAttemps` by the API).
    pub max_login_attempts: i64,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            minimum_password_length: 8,
            require_lowercase_characters: true,
            require_uppercase_characters: true,
            require_numbers: true,
            require_symbols: false,
            hard_expiry: false,
            max_password_age: 0,
            password_reuse_prevention: 0,
            max_login_attempts: 5,
        }
    }
}

impl PasswordPolicy {
    fn to_json(&self) -> Value {
        json!({
            "MinimumPasswordLength": self.minimum_password_length,
            "RequireLowercaseCharacters": self.require_lowercase_characters,
            "RequireUppercaseCharacters": self.require_uppercase_characters,
            "RequireNumbers": self.require_numbers,
            "RequireSymbols": self.require_symbols,
            "HardExpiry": self.hard_expiry,
            "MaxPasswordAge": self.max_password_age,
            "PasswordReusePrevention": self.password_reuse_prevention,
            "MaxLoginAttemps": self.max_login_attempts,
        })
    }

    fn from_json(value: &Value) -> Self {
        let d = Self::default();
        let int = |k: &str, default: i64| value.get(k).and_then(Value::as_i64).unwrap_or(default);
        let boolean =
            |k: &str, default: bool| value.get(k).and_then(Value::as_bool).unwrap_or(default);
        Self {
            minimum_password_length: int("MinimumPasswordLength", d.minimum_password_length),
            require_lowercase_characters: boolean(
                "RequireLowercaseCharacters",
                d.require_lowercase_characters,
            ),
            require_uppercase_characters: boolean(
                "RequireUppercaseCharacters",
                d.require_uppercase_characters,
            ),
            require_numbers: boolean("RequireNumbers", d.require_numbers),
            require_symbols: boolean("RequireSymbols", d.require_symbols),
            hard_expiry: boolean("HardExpiry", d.hard_expiry),
            max_password_age: int("MaxPasswordAge", d.max_password_age),
            password_reuse_prevention: int("PasswordReusePrevention", d.password_reuse_prevention),
            max_login_attempts: int("MaxLoginAttemps", d.max_login_attempts),
        }
    }

    /// Checks a new password against the policy (`InvalidParameter.Password.TooWeak`).
    pub fn check(&self, password: &str) -> Result<(), ApiError> {
        let len = password.chars().count();
        let max_len = 32;
        let mut missing = Vec::new();
        if i64::try_from(len).unwrap_or(i64::MAX) < self.minimum_password_length || len > max_len {
            missing.push(format!(
                "{} to {max_len} characters",
                self.minimum_password_length
            ));
        }
        if password.chars().any(|c| !c.is_ascii_graphic()) {
            missing.push("only printable ASCII characters without spaces".to_owned());
        }
        if self.require_lowercase_characters && !password.chars().any(|c| c.is_ascii_lowercase()) {
            missing.push("a lower-case letter".to_owned());
        }
        if self.require_uppercase_characters && !password.chars().any(|c| c.is_ascii_uppercase()) {
            missing.push("an upper-case letter".to_owned());
        }
        if self.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
            missing.push("a digit".to_owned());
        }
        if self.require_symbols && !password.chars().any(|c| c.is_ascii_punctuation()) {
            missing.push("a symbol".to_owned());
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(invalid(
                "InvalidParameter.Password.TooWeak",
                format!(
                    "The password does not meet the password policy: it needs {}.",
                    missing.join(", ")
                ),
            ))
        }
    }
}

/// The account's password policy (defaults if never set).
pub(super) async fn password_policy(call: &Call<'_>) -> Result<PasswordPolicy, ApiError> {
    password_policy_of(&call.state.store, account(call)).await
}

/// The password policy of `account_id` (defaults if never set).
pub async fn password_policy_of(
    store: &Store,
    account_id: &str,
) -> Result<PasswordPolicy, ApiError> {
    let stored = store
        .get_ram_setting(account_id, PASSWORD_POLICY)
        .await
        .map_err(util::store_error)?;
    Ok(match stored {
        None => PasswordPolicy::default(),
        Some(text) => serde_json::from_str::<Value>(&text)
            .map(|v| PasswordPolicy::from_json(&v))
            .map_err(|_| {
                util::store_error(cloudward_store::StoreError::Corrupt {
                    what: "ram_account_settings.password_policy",
                })
            })?,
    })
}

/// Argon2id PHC string of a password.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|_| ApiError::internal())
}

/// Whether `password` matches the PHC string (constant-time comparison inside `argon2`).
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

fn profile_json(user_name: &str, profile: &LoginProfileRecord, now_ms: i64) -> Value {
    let mut body = json!({
        "UserName": user_name,
        "PasswordResetRequired": profile.password_reset_required,
        "MFABindRequired": profile.mfa_bind_required,
        "Status": profile.status.as_str(),
        "CreateDate": util::iso8601(profile.created_at_ms),
        "UpdateDate": util::iso8601(profile.updated_at_ms),
        "PasswordLastChanged": util::iso8601(profile.password_changed_at_ms),
    });
    if let Some(at) = profile.last_login_at_ms {
        super::set(&mut body, "LastLoginTime", json!(util::iso8601(at)));
    }
    // Cloudward extension: why sign-in is refused, so an administrator knows to reset.
    if profile.leak_locked_at_ms.is_some() {
        super::set(&mut body, "LockReason", json!("PasswordLeakSuspected"));
    } else if let Some(until) = profile.locked_until_ms.filter(|&until| until > now_ms) {
        super::set(&mut body, "LockReason", json!("TooManyAttempts"));
        super::set(&mut body, "LockedUntil", json!(util::iso8601(until)));
    }
    body
}

fn profile_not_exist() -> ApiError {
    entity_not_exist(
        "User.LoginProfile",
        "The login profile of the user does not exist.",
    )
}

fn parse_status(
    params: &cloudward_service::Params,
) -> Result<Option<LoginProfileStatus>, ApiError> {
    match optional(params, "Status") {
        None => Ok(None),
        Some(text) => LoginProfileStatus::parse(text).map(Some).ok_or_else(|| {
            invalid(
                "InvalidParameter.Status",
                "The parameter Status must be Active or Inactive.",
            )
        }),
    }
}

/// Checks `new` against the policy and the user's password history
/// (`InvalidParameter.Password.TooWeak`, `InvalidParameter.Password.Reused`) and returns its
/// Argon2id hash. The history holds every password set, the current one included, so
/// `PasswordReusePrevention = n` refuses the current password and the n-1 before it.
pub async fn check_new_password(
    store: &Store,
    policy: &PasswordPolicy,
    account_id: &str,
    user_id: &str,
    new: &str,
) -> Result<String, ApiError> {
    policy.check(new)?;
    if policy.password_reuse_prevention > 0 {
        let history = store
            .password_history(account_id, user_id, policy.password_reuse_prevention)
            .await
            .map_err(util::store_error)?;
        // Every hash is checked (no early exit), so the time taken does not say which one matched.
        let reused = history
            .iter()
            .fold(false, |acc, phc| verify_password(new, phc) | acc);
        if reused {
            return Err(invalid(
                "InvalidParameter.Password.Reused",
                format!(
                    "The password was used recently: the password policy forbids reusing the last {} passwords.",
                    policy.password_reuse_prevention
                ),
            ));
        }
    }
    hash_password(new)
}

/// After a password was stored: remember it in the history.
pub async fn remember_password(
    store: &Store,
    account_id: &str,
    user_id: &str,
    phc: &str,
    now: i64,
) -> Result<(), ApiError> {
    store
        .add_password_history(account_id, user_id, phc, now)
        .await
        .map_err(util::store_error)
}

pub(super) fn create_login_profile(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let p = call.params;
        let user = user_by_name(&call, required(p, "UserName")?).await?;
        let password = required(p, "Password")?;
        let status = parse_status(p)?.unwrap_or(LoginProfileStatus::Active);
        let store = &call.state.store;
        let policy = password_policy(&call).await?;
        let hash =
            check_new_password(store, &policy, account(&call), &user.user_id, password).await?;
        let now = util::now_ms(call.state);
        let profile = LoginProfileRecord {
            account_id: account(&call).to_owned(),
            user_id: user.user_id.clone(),
            password_hash: hash,
            password_reset_required: optional_bool(p, "PasswordResetRequired")?.unwrap_or(false),
            mfa_bind_required: optional_bool(p, "MFABindRequired")?.unwrap_or(false),
            created_at_ms: now,
            updated_at_ms: now,
            status,
            last_login_at_ms: None,
            password_changed_at_ms: now,
            locked_until_ms: None,
            leak_locked_at_ms: None,
        };
        store
            .insert_login_profile(&profile)
            .await
            .map_err(|e| match e {
                cloudward_store::StoreError::AlreadyExists { .. } => entity_already_exists(
                    "User.LoginProfile",
                    "The login profile of the user does already EXIST.",
                ),
                other => util::store_error(other),
            })?;
        remember_password(
            store,
            account(&call),
            &user.user_id,
            &profile.password_hash,
            now,
        )
        .await?;
        Ok(json!({ "LoginProfile": profile_json(&user.user_name, &profile, now) }))
    })
}

async fn existing_profile(call: &Call<'_>) -> Result<(String, LoginProfileRecord), ApiError> {
    let user = user_by_name(call, required(call.params, "UserName")?).await?;
    let profile = call
        .state
        .store
        .get_login_profile(account(call), &user.user_id)
        .await
        .map_err(util::store_error)?
        .ok_or_else(profile_not_exist)?;
    Ok((user.user_name, profile))
}

pub(super) fn get_login_profile(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let (name, profile) = existing_profile(&call).await?;
        let now = util::now_ms(call.state);
        Ok(json!({ "LoginProfile": profile_json(&name, &profile, now) }))
    })
}

/// An administrator's change. A new `Password` is a reset: it clears both sign-in locks
/// and the failure history, and ends the user's console sessions; `Status=Inactive` ends
/// them too.
pub(super) fn update_login_profile(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let p = call.params;
        let store = &call.state.store;
        let acct = account(&call);
        let (name, mut profile) = existing_profile(&call).await?;
        let status = parse_status(p)?;
        let now = util::now_ms(call.state);
        let new_password = optional(p, "Password");
        if let Some(password) = new_password {
            let policy = password_policy(&call).await?;
            profile.password_hash =
                check_new_password(store, &policy, acct, &profile.user_id, password).await?;
            profile.password_changed_at_ms = now;
        }
        if let Some(v) = optional_bool(p, "PasswordResetRequired")? {
            profile.password_reset_required = v;
        }
        if let Some(v) = optional_bool(p, "MFABindRequired")? {
            profile.mfa_bind_required = v;
        }
        if let Some(status) = status {
            profile.status = status;
        }
        profile.updated_at_ms = now;
        if !store
            .update_login_profile(&profile)
            .await
            .map_err(util::store_error)?
        {
            return Err(profile_not_exist());
        }
        if new_password.is_some() {
            remember_password(store, acct, &profile.user_id, &profile.password_hash, now).await?;
            store
                .set_login_lock(acct, &profile.user_id, None, None)
                .await
                .map_err(util::store_error)?;
            store
                .clear_signin_failures(acct, &profile.user_id)
                .await
                .map_err(util::store_error)?;
            profile.locked_until_ms = None;
            profile.leak_locked_at_ms = None;
        }
        if new_password.is_some() || profile.status == LoginProfileStatus::Inactive {
            store
                .revoke_console_sessions(acct, Some(&profile.user_id), None, now)
                .await
                .map_err(util::store_error)?;
        }
        Ok(json!({ "LoginProfile": profile_json(&name, &profile, now) }))
    })
}

pub(super) fn delete_login_profile(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let user = user_by_name(&call, required(call.params, "UserName")?).await?;
        let store = &call.state.store;
        let acct = account(&call);
        if !store
            .delete_login_profile(acct, &user.user_id)
            .await
            .map_err(util::store_error)?
        {
            return Err(profile_not_exist());
        }
        store
            .revoke_console_sessions(acct, Some(&user.user_id), None, util::now_ms(call.state))
            .await
            .map_err(util::store_error)?;
        store
            .delete_password_history(acct, &user.user_id)
            .await
            .map_err(util::store_error)?;
        store
            .clear_signin_failures(acct, &user.user_id)
            .await
            .map_err(util::store_error)?;
        Ok(json!({}))
    })
}

/// A RAM user changes its own console password (old password required).
pub(super) fn change_password(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let old = required(call.params, "OldPassword")?;
        let new = required(call.params, "NewPassword")?;
        let PrincipalKind::User { user_id, .. } = &call.auth.principal().kind else {
            return Err(invalid(
                "InvalidParameter",
                "ChangePassword can only be called by a RAM user for its own password.",
            ));
        };
        let preference = super::account::security_preference(&call).await?;
        if !preference.allow_user_to_change_password {
            return Err(ApiError::new(
                "NoPermission",
                403,
                "The security preference of the account does not allow users to change their passwords.",
            ));
        }
        let store = &call.state.store;
        let acct = account(&call);
        let mut profile = store
            .get_login_profile(acct, user_id)
            .await
            .map_err(util::store_error)?
            .ok_or_else(profile_not_exist)?;
        if !verify_password(old, &profile.password_hash) {
            return Err(invalid(
                "InvalidParameter.OldPassword",
                "The old password is not correct.",
            ));
        }
        let policy = password_policy(&call).await?;
        let now = util::now_ms(call.state);
        profile.password_hash = check_new_password(store, &policy, acct, user_id, new).await?;
        profile.password_reset_required = false;
        profile.password_changed_at_ms = now;
        profile.updated_at_ms = now;
        store
            .update_login_profile(&profile)
            .await
            .map_err(util::store_error)?;
        remember_password(store, acct, user_id, &profile.password_hash, now).await?;
        Ok(json!({}))
    })
}

pub(super) fn get_password_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(
        async move { Ok(json!({ "PasswordPolicy": password_policy(&call).await?.to_json() })) },
    )
}

pub(super) fn set_password_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let p = call.params;
        let mut policy = password_policy(&call).await?;
        if let Some(v) = optional_int(
            p,
            "MinimumPasswordLength",
            8,
            32,
            "InvalidParameter.MinimumPasswordLength.Range",
        )? {
            policy.minimum_password_length = v;
        }
        if let Some(v) = optional_int(
            p,
            "MaxPasswordAge",
            0,
            1095,
            "InvalidParameter.MaxPasswordAge.Range",
        )? {
            policy.max_password_age = v;
        }
        if let Some(v) = optional_int(
            p,
            "PasswordReusePrevention",
            0,
            24,
            "InvalidParameter.PasswordReusePrevention.Range",
        )? {
            policy.password_reuse_prevention = v;
        }
        if let Some(v) = optional_int(
            p,
            "MaxLoginAttemps",
            0,
            32,
            "InvalidParameter.MaxLoginAttemps.Range",
        )? {
            policy.max_login_attempts = v;
        }
        for (name, field) in [
            (
                "RequireLowercaseCharacters",
                &mut policy.require_lowercase_characters,
            ),
            (
                "RequireUppercaseCharacters",
                &mut policy.require_uppercase_characters,
            ),
            ("RequireNumbers", &mut policy.require_numbers),
            ("RequireSymbols", &mut policy.require_symbols),
            ("HardExpiry", &mut policy.hard_expiry),
        ] {
            if let Some(v) = optional_bool(p, name)? {
                *field = v;
            }
        }
        let text = policy.to_json().to_string();
        call.state
            .store
            .put_ram_setting(
                account(&call),
                PASSWORD_POLICY,
                &text,
                util::now_ms(call.state),
            )
            .await
            .map_err(util::store_error)?;
        Ok(json!({ "PasswordPolicy": policy.to_json() }))
    })
}
