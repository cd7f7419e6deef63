//! Account alias and security preference.

use std::net::IpAddr;

use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture};
use serde_json::{Value, json};

use super::{account, conflict};
use crate::util::{self, invalid, optional, optional_bool, optional_int, required};

const SECURITY_PREFERENCE: &str = "security_preference";

/// The account's security preference. Defaults: users may change their password and
/// manage their MFA devices, not their AccessKeys; 6-hour console sessions; no network
/// restriction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityPreference {
    /// Users may change their own password.
    pub allow_user_to_change_password: bool,
    /// Users may remember MFA for 7 days.
    pub enable_save_mfa_ticket: bool,
    /// `;`-separated CIDRs allowed for console logon (empty = any).
    pub login_network_masks: String,
    /// Console session length, hours (1..=24).
    pub login_session_duration: i64,
    /// Users may manage their own AccessKeys.
    pub allow_user_to_manage_access_keys: bool,
    /// Users may manage their own MFA devices.
    pub allow_user_to_manage_mfa_devices: bool,
    /// Users may manage their own public keys.
    pub allow_user_to_manage_public_keys: bool,
    /// Cloudward extension: RAM users' AccessKeys unused this many days are disabled by
    /// the idle-credential sweep (0 = never).
    pub max_idle_days_for_access_keys: i64,
    /// Cloudward extension: RAM users' console logins unused this many days are disabled
    /// by the idle-credential sweep (0 = never).
    pub max_idle_days_for_users: i64,
    /// Console sign-in of every RAM user needs MFA; a user without a device binds one
    /// during sign-in (Cloudward extension `EnforceMFAForLogin`, default true).
    pub enforce_mfa_for_login: bool,
}

/// Default idle period before unused credentials are disabled (days).
pub const DEFAULT_MAX_IDLE_DAYS: i64 = 90;
/// Longest idle period that can be configured (days).
pub const MAX_IDLE_DAYS_LIMIT: i64 = 1095;

impl Default for SecurityPreference {
    fn default() -> Self {
        Self {
            allow_user_to_change_password: true,
            enable_save_mfa_ticket: false,
            login_network_masks: String::new(),
            login_session_duration: 6,
            allow_user_to_manage_access_keys: false,
            allow_user_to_manage_mfa_devices: true,
            allow_user_to_manage_public_keys: false,
            max_idle_days_for_access_keys: DEFAULT_MAX_IDLE_DAYS,
            max_idle_days_for_users: DEFAULT_MAX_IDLE_DAYS,
            enforce_mfa_for_login: true,
        }
    }
}

impl SecurityPreference {
    fn to_json(&self) -> Value {
        json!({
            "LoginProfilePreference": {
                "AllowUserToChangePassword": self.allow_user_to_change_password,
                "EnableSaveMFATicket": self.enable_save_mfa_ticket,
                "LoginNetworkMasks": self.login_network_masks,
                "LoginSessionDuration": self.login_session_duration,
                "EnforceMFAForLogin": self.enforce_mfa_for_login,
                "MaxIdleDaysForUsers": self.max_idle_days_for_users,
            },
            "AccessKeyPreference": {
                "AllowUserToManageAccessKeys": self.allow_user_to_manage_access_keys,
                "MaxIdleDaysForAccessKeys": self.max_idle_days_for_access_keys,
            },
            "MFAPreference": { "AllowUserToManageMFADevices": self.allow_user_to_manage_mfa_devices },
            "PublicKeyPreference": { "AllowUserToManagePublicKeys": self.allow_user_to_manage_public_keys },
        })
    }

    fn from_json(v: &Value) -> Self {
        let d = Self::default();
        let b = |outer: &str, inner: &str, default: bool| {
            v.get(outer)
                .and_then(|o| o.get(inner))
                .and_then(Value::as_bool)
                .unwrap_or(default)
        };
        let login = v.get("LoginProfilePreference");
        let int = |outer: &str, inner: &str, default: i64| {
            v.get(outer)
                .and_then(|o| o.get(inner))
                .and_then(Value::as_i64)
                .unwrap_or(default)
        };
        Self {
            max_idle_days_for_access_keys: int(
                "AccessKeyPreference",
                "MaxIdleDaysForAccessKeys",
                d.max_idle_days_for_access_keys,
            ),
            max_idle_days_for_users: int(
                "LoginProfilePreference",
                "MaxIdleDaysForUsers",
                d.max_idle_days_for_users,
            ),
            allow_user_to_change_password: b(
                "LoginProfilePreference",
                "AllowUserToChangePassword",
                d.allow_user_to_change_password,
            ),
            enable_save_mfa_ticket: b(
                "LoginProfilePreference",
                "EnableSaveMFATicket",
                d.enable_save_mfa_ticket,
            ),
            login_network_masks: login
                .and_then(|o| o.get("LoginNetworkMasks"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            login_session_duration: login
                .and_then(|o| o.get("LoginSessionDuration"))
                .and_then(Value::as_i64)
                .unwrap_or(d.login_session_duration),
            allow_user_to_manage_access_keys: b(
                "AccessKeyPreference",
                "AllowUserToManageAccessKeys",
                d.allow_user_to_manage_access_keys,
            ),
            allow_user_to_manage_mfa_devices: b(
                "MFAPreference",
                "AllowUserToManageMFADevices",
                d.allow_user_to_manage_mfa_devices,
            ),
            allow_user_to_manage_public_keys: b(
                "PublicKeyPreference",
                "AllowUserToManagePublicKeys",
                d.allow_user_to_manage_public_keys,
            ),
            enforce_mfa_for_login: b(
                "LoginProfilePreference",
                "EnforceMFAForLogin",
                d.enforce_mfa_for_login,
            ),
        }
    }
}

/// The account's security preference (defaults if never set).
pub(super) async fn security_preference(call: &Call<'_>) -> Result<SecurityPreference, ApiError> {
    security_preference_of(&call.state.store, account(call)).await
}

/// The security preference of `account_id` (defaults if never set).
pub async fn security_preference_of(
    store: &cloudward_store::Store,
    account_id: &str,
) -> Result<SecurityPreference, ApiError> {
    let stored = store
        .get_ram_setting(account_id, SECURITY_PREFERENCE)
        .await
        .map_err(util::store_error)?;
    Ok(match stored {
        None => SecurityPreference::default(),
        Some(text) => serde_json::from_str::<Value>(&text)
            .map(|v| SecurityPreference::from_json(&v))
            .map_err(|_| {
                util::store_error(cloudward_store::StoreError::Corrupt {
                    what: "ram_account_settings.security_preference",
                })
            })?,
    })
}

/// `a.b.c.d/n;...` — at most 40 masks, 512 characters in all.
fn check_network_masks(masks: &str) -> Result<(), ApiError> {
    let bad = || {
        invalid(
            "InvalidParameter.LoginNetworkMasks",
            "LoginNetworkMasks must be at most 40 CIDR blocks separated by semicolons (512 characters in all).",
        )
    };
    if masks.len() > 512 {
        return Err(bad());
    }
    let parts: Vec<&str> = masks.split(';').filter(|m| !m.trim().is_empty()).collect();
    if parts.len() > 40 {
        return Err(bad());
    }
    for part in parts {
        let (addr, prefix) = part.trim().split_once('/').unwrap_or((part.trim(), ""));
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        if !prefix.is_empty() {
            let bits: u8 = prefix.parse().map_err(|_| bad())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            if bits > max {
                return Err(bad());
            }
        }
    }
    Ok(())
}

/// Whether `ip` is allowed by `LoginNetworkMasks` (an empty list allows every address).
/// An IPv4-mapped IPv6 address is compared as IPv4.
pub fn network_allows(masks: &str, ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    let mut any = false;
    for part in masks.split(';').map(str::trim).filter(|m| !m.is_empty()) {
        any = true;
        let (addr, prefix) = part.split_once('/').unwrap_or((part, ""));
        let Ok(net) = addr.parse::<IpAddr>() else {
            continue;
        };
        let (bits, ip_bits, net_bits) = match (ip, net) {
            (IpAddr::V4(a), IpAddr::V4(n)) => (
                32u32,
                u128::from(u32::from(a)) << 96,
                u128::from(u32::from(n)) << 96,
            ),
            (IpAddr::V6(a), IpAddr::V6(n)) => (128u32, u128::from(a), u128::from(n)),
            _ => continue,
        };
        let len = if prefix.is_empty() {
            bits
        } else {
            prefix.parse::<u32>().unwrap_or(bits).min(bits)
        };
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        if ip_bits & mask == net_bits & mask {
            return true;
        }
    }
    !any
}

/// 3-64 lower-case letters, digits and `-`, not starting or ending with `-`.
fn check_alias(alias: &str) -> Result<(), ApiError> {
    let ok = (3..=64).contains(&alias.len())
        && alias
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !alias.starts_with('-')
        && !alias.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "InvalidParameter.AccountAlias.Format",
            "The account alias must be 3 to 64 lower-case letters, digits and hyphens, not starting or ending with a hyphen.",
        ))
    }
}

pub(super) fn set_account_alias(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let alias = required(call.params, "AccountAlias")?;
        check_alias(alias)?;
        call.state
            .store
            .set_account_alias(account(&call), alias)
            .await
            .map_err(|e| conflict(e, "AccountAlias", "The account alias is already in use."))?;
        Ok(json!({}))
    })
}

pub(super) fn get_account_alias(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let alias = call
            .state
            .store
            .get_account_alias(account(&call))
            .await
            .map_err(util::store_error)?
            .unwrap_or_default();
        Ok(json!({ "AccountAlias": alias }))
    })
}

pub(super) fn clear_account_alias(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        call.state
            .store
            .clear_account_alias(account(&call))
            .await
            .map_err(util::store_error)?;
        Ok(json!({}))
    })
}

pub(super) fn get_security_preference(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        Ok(json!({ "SecurityPreference": security_preference(&call).await?.to_json() }))
    })
}

pub(super) fn set_security_preference(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let p = call.params;
        let mut pref = security_preference(&call).await?;
        for (name, field) in [
            (
                "AllowUserToChangePassword",
                &mut pref.allow_user_to_change_password,
            ),
            ("EnableSaveMFATicket", &mut pref.enable_save_mfa_ticket),
            ("EnforceMFAForLogin", &mut pref.enforce_mfa_for_login),
            (
                "AllowUserToManageAccessKeys",
                &mut pref.allow_user_to_manage_access_keys,
            ),
            (
                "AllowUserToManageMFADevices",
                &mut pref.allow_user_to_manage_mfa_devices,
            ),
            (
                "AllowUserToManagePublicKeys",
                &mut pref.allow_user_to_manage_public_keys,
            ),
        ] {
            if let Some(v) = optional_bool(p, name)? {
                *field = v;
            }
        }
        if let Some(hours) = optional_int(
            p,
            "LoginSessionDuration",
            1,
            24,
            "InvalidParameter.LoginSessionDuration",
        )? {
            pref.login_session_duration = hours;
        }
        if let Some(days) = optional_int(
            p,
            "MaxIdleDaysForAccessKeys",
            0,
            MAX_IDLE_DAYS_LIMIT,
            "InvalidParameter.MaxIdleDaysForAccessKeys",
        )? {
            pref.max_idle_days_for_access_keys = days;
        }
        if let Some(days) = optional_int(
            p,
            "MaxIdleDaysForUsers",
            0,
            MAX_IDLE_DAYS_LIMIT,
            "InvalidParameter.MaxIdleDaysForUsers",
        )? {
            pref.max_idle_days_for_users = days;
        }
        if p.contains_key("LoginNetworkMasks") {
            let masks = optional(p, "LoginNetworkMasks").unwrap_or("");
            check_network_masks(masks)?;
            masks.clone_into(&mut pref.login_network_masks);
        }
        let text = pref.to_json().to_string();
        call.state
            .store
            .put_ram_setting(
                account(&call),
                SECURITY_PREFERENCE,
                &text,
                util::now_ms(call.state),
            )
            .await
            .map_err(util::store_error)?;
        Ok(json!({ "SecurityPreference": pref.to_json() }))
    })
}
