//! Idle-credential disabling: RAM users' AccessKeys and console logins that have not been
//! used for the account's idle period (security preference `MaxIdleDaysForAccessKeys` /
//! `MaxIdleDaysForUsers`, default 90 days, 0 = never) are set `Inactive`.
//!
//! A credential never used counts from its creation. The root identity's keys are left
//! alone: disabling the only credential of an account's owner by automation would lock the
//! owner out; root keys are reported by `GetIdleCredentialReport` all the same.
//!
//! `GetIdleCredentialReport` is the dry run; `DisableIdleCredentials` applies it (also with
//! `DryRun=true`), and the server runs the same sweep on a schedule.

use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture};
use cloudward_store::{AccessKeyOwner, AccessKeyStatus, LoginProfileStatus, Store};
use serde_json::{Value, json};

use super::contacts::queue_notification;
use crate::ram::account::security_preference_of;
use crate::util::{self, optional_bool};

const DAY_MS: i64 = 86_400_000;

/// What kind of credential an idle finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    /// A permanent AccessKey.
    AccessKey,
    /// A console login profile.
    ConsoleLogin,
}

/// One idle credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdleCredential {
    /// AccessKey or console login.
    pub kind: CredentialKind,
    /// The AccessKeyId, or the user name for a console login.
    pub id: String,
    /// Owning user name (`root` for the root identity).
    pub user_name: String,
    /// Last use, if any.
    pub last_used_ms: Option<i64>,
    /// Creation time.
    pub created_ms: i64,
    /// Whole days since last use (or creation).
    pub idle_days: i64,
    /// Whether the sweep disables it (false for root keys, which are only reported).
    pub disable: bool,
}

/// The outcome of one sweep of one account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdleReport {
    /// Idle period for AccessKeys, days (0 = off).
    pub access_key_days: i64,
    /// Idle period for console logins, days (0 = off).
    pub login_days: i64,
    /// Whether the disabling was applied (false: dry run).
    pub applied: bool,
    /// Idle credentials found.
    pub findings: Vec<IdleCredential>,
}

impl IdleReport {
    /// How many credentials were (or would be) disabled.
    pub fn disabled_count(&self) -> usize {
        self.findings.iter().filter(|f| f.disable).count()
    }

    /// The report as the API returns it.
    pub fn to_json(&self) -> Value {
        let item = |f: &IdleCredential| {
            let mut v = json!({
                "UserName": f.user_name,
                "CreateDate": util::iso8601(f.created_ms),
                "IdleDays": f.idle_days,
                "Action": match (f.disable, self.applied) {
                    (true, true) => "Disabled",
                    (true, false) => "WouldDisable",
                    (false, _) => "ReportOnly",
                },
            });
            if let Some(obj) = v.as_object_mut() {
                match f.kind {
                    CredentialKind::AccessKey => {
                        obj.insert("AccessKeyId".to_owned(), json!(f.id));
                    }
                    CredentialKind::ConsoleLogin => {}
                }
                if let Some(at) = f.last_used_ms {
                    obj.insert("LastUsedDate".to_owned(), json!(util::iso8601(at)));
                }
            }
            v
        };
        let keys: Vec<Value> = self
            .findings
            .iter()
            .filter(|f| f.kind == CredentialKind::AccessKey)
            .map(item)
            .collect();
        let logins: Vec<Value> = self
            .findings
            .iter()
            .filter(|f| f.kind == CredentialKind::ConsoleLogin)
            .map(item)
            .collect();
        json!({
            "DryRun": !self.applied,
            "MaxIdleDaysForAccessKeys": self.access_key_days,
            "MaxIdleDaysForUsers": self.login_days,
            "AccessKeys": { "AccessKey": keys },
            "LoginProfiles": { "LoginProfile": logins },
        })
    }
}

fn idle_days(now_ms: i64, since_ms: i64) -> i64 {
    now_ms.saturating_sub(since_ms).div_euclid(DAY_MS)
}

/// Finds (and with `apply`, disables) the idle credentials of one account at `now_ms`.
pub async fn sweep_account(
    store: &Store,
    account_id: &str,
    now_ms: i64,
    apply: bool,
) -> Result<IdleReport, ApiError> {
    let preference = security_preference_of(store, account_id).await?;
    let mut report = IdleReport {
        access_key_days: preference.max_idle_days_for_access_keys,
        login_days: preference.max_idle_days_for_users,
        applied: apply,
        findings: Vec::new(),
    };
    if report.access_key_days > 0 {
        let limit_ms = report.access_key_days.saturating_mul(DAY_MS);
        let mut keys = store
            .list_user_access_keys_in_account(account_id)
            .await
            .map_err(util::store_error)?;
        keys.extend(
            store
                .list_access_keys(account_id, &AccessKeyOwner::Root)
                .await
                .map_err(util::store_error)?,
        );
        for key in keys {
            if key.status != AccessKeyStatus::Active {
                continue;
            }
            let since = key.last_used_at_ms.unwrap_or(key.created_at_ms);
            if now_ms.saturating_sub(since) < limit_ms {
                continue;
            }
            let (user_name, disable) = match &key.owner {
                AccessKeyOwner::Root => ("root".to_owned(), false),
                AccessKeyOwner::User { user_name, .. } => (user_name.clone(), true),
            };
            if apply && disable {
                store
                    .set_access_key_status(
                        account_id,
                        &key.access_key_id,
                        AccessKeyStatus::Inactive,
                    )
                    .await
                    .map_err(util::store_error)?;
            }
            report.findings.push(IdleCredential {
                kind: CredentialKind::AccessKey,
                id: key.access_key_id,
                user_name,
                last_used_ms: key.last_used_at_ms,
                created_ms: key.created_at_ms,
                idle_days: idle_days(now_ms, since),
                disable,
            });
        }
    }
    if report.login_days > 0 {
        sweep_logins(store, account_id, now_ms, apply, &mut report).await?;
    }
    Ok(report)
}

async fn sweep_logins(
    store: &Store,
    account_id: &str,
    now_ms: i64,
    apply: bool,
    report: &mut IdleReport,
) -> Result<(), ApiError> {
    let limit_ms = report.login_days.saturating_mul(DAY_MS);
    let profiles = store
        .list_login_profiles(account_id)
        .await
        .map_err(util::store_error)?;
    for profile in profiles {
        if profile.status != LoginProfileStatus::Active {
            continue;
        }
        let since = profile.last_login_at_ms.unwrap_or(profile.created_at_ms);
        if now_ms.saturating_sub(since) < limit_ms {
            continue;
        }
        let user_name = store
            .get_user_by_id(account_id, &profile.user_id)
            .await
            .map_err(util::store_error)?
            .map(|u| u.user_name)
            .unwrap_or_else(|| profile.user_id.clone());
        if apply {
            store
                .set_login_profile_status(
                    account_id,
                    &profile.user_id,
                    LoginProfileStatus::Inactive,
                )
                .await
                .map_err(util::store_error)?;
        }
        report.findings.push(IdleCredential {
            kind: CredentialKind::ConsoleLogin,
            id: user_name.clone(),
            user_name,
            last_used_ms: profile.last_login_at_ms,
            created_ms: profile.created_at_ms,
            idle_days: idle_days(now_ms, since),
            disable: true,
        });
    }
    Ok(())
}

/// `GetIdleCredentialReport`: the dry run.
pub(super) fn get_idle_credential_report(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let report = sweep_account(
            &call.state.store,
            &call.auth.principal().account_id,
            util::now_ms(call.state),
            false,
        )
        .await?;
        Ok(json!({ "IdleCredentialReport": report.to_json() }))
    })
}

/// `DisableIdleCredentials`: applies the sweep now (`DryRun=true` only reports).
pub(super) fn disable_idle_credentials(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let dry_run = optional_bool(call.params, "DryRun")?.unwrap_or(false);
        let report = sweep_account(
            &call.state.store,
            &call.auth.principal().account_id,
            util::now_ms(call.state),
            !dry_run,
        )
        .await?;
        let body = report.to_json();
        if report.applied && report.disabled_count() > 0 {
            queue_notification(&call, "IdleCredentialsDisabled", body.clone()).await?;
        }
        Ok(json!({ "IdleCredentialReport": body }))
    })
}
