//! AccessKey leak quarantine.
//!
//! A quarantined key keeps authenticating — so ordinary reads by the workload that owns it
//! keep working while it is rotated — but every action on the account's high-risk list is
//! refused with [`quarantined`]. The list is RAM action patterns with RAM wildcard
//! semantics (`*:Create*` matches `ram:CreateUser`); a few actions are refused to a
//! quarantined key whatever the list says, so that a thief holding the key cannot lift the
//! quarantine, shorten the list or silence the notifications.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cloudward_policy::wildcard::wildcard_match;
use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture, Principal, PrincipalKind};
use cloudward_store::{AccessKeyOwner, QuarantineRecord, Store};
use serde_json::{Value, json};

use super::contacts::queue_notification;
use crate::util::{self, entity_not_exist, invalid, optional, required};

/// RAM setting that holds the account's high-risk list.
const QUARANTINE_POLICY: &str = "access_key_quarantine_policy";

/// Most patterns on a high-risk list.
const MAX_PATTERNS: usize = 200;
/// Longest pattern.
const MAX_PATTERN_LEN: usize = 128;

/// Default high-risk list: every state-changing verb of every product, plus role
/// assumption (a new session would escape the quarantine). A test checks that it covers
/// every registered write action and no read action.
pub const DEFAULT_HIGH_RISK_ACTIONS: &[&str] = &[
    "*:Accept*",
    "*:Add*",
    "*:Attach*",
    "*:Bind*",
    "*:Cancel*",
    "*:Change*",
    "*:Clear*",
    "*:Create*",
    "*:Decline*",
    "*:Delete*",
    "*:Deregister*",
    "*:Detach*",
    "*:Disable*",
    "*:Enable*",
    "*:Invite*",
    "*:Lift*",
    "*:Move*",
    "*:Promote*",
    "*:Put*",
    "*:Quarantine*",
    "*:Register*",
    "*:Remove*",
    "*:Resend*",
    "*:Reset*",
    "*:Retry*",
    "*:Revoke*",
    "*:Rotate*",
    "*:Send*",
    "*:Set*",
    "*:Start*",
    "*:Stop*",
    "*:Tag*",
    "*:Unbind*",
    "*:Untag*",
    "*:Update*",
    "sts:AssumeRole*",
];

/// Refused to a quarantined key whatever the account's list says.
pub const ALWAYS_REFUSED_WHEN_QUARANTINED: &[&str] = &[
    "ram:LiftAccessKeyQuarantine",
    "ram:SetAccessKeyQuarantinePolicy",
    "ram:SetSecurityContacts",
    "ram:CreateAccessKey",
];

/// `Forbidden.AccessKeyQuarantined` (403): the key is quarantined and the action is on the
/// high-risk list. The reason given at quarantine time is not echoed: the caller may be
/// whoever found the leaked key.
pub fn quarantined(access_key_id: &str, action: &str) -> ApiError {
    ApiError::new(
        "Forbidden.AccessKeyQuarantined",
        403,
        format!(
            "The AccessKey {access_key_id} is quarantined because it may have leaked; the high-risk action {action} is refused. Rotate the key: create a new AccessKey, switch your clients to it, then delete this one."
        ),
    )
}

/// Whether `ram_action` is on `patterns` (RAM wildcard match, case-insensitive as RAM
/// action names are).
pub fn is_high_risk(patterns: &[String], ram_action: &str) -> bool {
    let action = ram_action.to_ascii_lowercase();
    ALWAYS_REFUSED_WHEN_QUARANTINED
        .iter()
        .any(|a| a.eq_ignore_ascii_case(ram_action))
        || patterns
            .iter()
            .any(|p| wildcard_match(&p.to_ascii_lowercase(), &action))
}

fn default_patterns() -> Vec<String> {
    DEFAULT_HIGH_RISK_ACTIONS
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

/// The account's high-risk list (the default if never set).
pub async fn high_risk_actions(store: &Store, account_id: &str) -> Result<Vec<String>, ApiError> {
    let stored = store
        .get_ram_setting(account_id, QUARANTINE_POLICY)
        .await
        .map_err(util::store_error)?;
    let Some(text) = stored else {
        return Ok(default_patterns());
    };
    let corrupt = || {
        util::store_error(cloudward_store::StoreError::Corrupt {
            what: "ram_account_settings.access_key_quarantine_policy",
        })
    };
    let value: Value = serde_json::from_str(&text).map_err(|_| corrupt())?;
    value
        .get("HighRiskActions")
        .and_then(Value::as_array)
        .ok_or_else(corrupt)?
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(corrupt))
        .collect()
}

/// What the guard knows about one credential.
#[derive(Clone, Debug)]
struct CachedState {
    generation: u64,
    at: Instant,
    quarantined: bool,
}

/// An account's high-risk list as cached: generation, when, patterns.
type CachedList = (u64, Instant, std::sync::Arc<Vec<String>>);

/// Per-request check in front of the policy decision, with a small cache: the answer for a
/// key changes only through writes, which call [`QuarantineGuard::invalidate`], and the
/// cache entries also expire after `ttl` (other nodes' writes).
#[derive(Debug)]
pub struct QuarantineGuard {
    store: Store,
    ttl: Duration,
    generation: AtomicU64,
    keys: RwLock<HashMap<String, CachedState>>,
    lists: RwLock<HashMap<String, CachedList>>,
}

/// Most cached entries before the cache is cleared (cheap to rebuild).
const MAX_CACHED: usize = 100_000;

impl QuarantineGuard {
    /// A guard over `store`; cached answers live at most `ttl`.
    pub fn new(store: Store, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            generation: AtomicU64::new(0),
            keys: RwLock::new(HashMap::new()),
            lists: RwLock::new(HashMap::new()),
        }
    }

    /// Forgets cached answers (after any write).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn fresh(&self, generation: u64, at: Instant) -> bool {
        generation == self.generation.load(Ordering::SeqCst) && at.elapsed() < self.ttl
    }

    async fn is_quarantined(&self, access_key_id: &str) -> Result<bool, ApiError> {
        if let Ok(map) = self.keys.read()
            && let Some(state) = map.get(access_key_id)
            && self.fresh(state.generation, state.at)
        {
            return Ok(state.quarantined);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let quarantined = self
            .store
            .find_quarantine(access_key_id)
            .await
            .map_err(util::store_error)?
            .is_some();
        if let Ok(mut map) = self.keys.write() {
            if map.len() > MAX_CACHED {
                map.clear();
            }
            map.insert(
                access_key_id.to_owned(),
                CachedState {
                    generation,
                    at: Instant::now(),
                    quarantined,
                },
            );
        }
        Ok(quarantined)
    }

    async fn list_for(&self, account_id: &str) -> Result<std::sync::Arc<Vec<String>>, ApiError> {
        if let Ok(map) = self.lists.read()
            && let Some((generation, at, list)) = map.get(account_id)
            && self.fresh(*generation, *at)
        {
            return Ok(list.clone());
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let list = std::sync::Arc::new(high_risk_actions(&self.store, account_id).await?);
        if let Ok(mut map) = self.lists.write() {
            if map.len() > MAX_CACHED {
                map.clear();
            }
            map.insert(
                account_id.to_owned(),
                (generation, Instant::now(), list.clone()),
            );
        }
        Ok(list)
    }

    /// Refuses `ram_action` if the caller's permanent AccessKey is quarantined and the
    /// action is high-risk for its account. STS sessions and console sessions are not
    /// AccessKeys and pass (a quarantined key cannot start new sessions: role assumption
    /// is on the default list).
    pub async fn check(&self, principal: &Principal, ram_action: &str) -> Result<(), ApiError> {
        if matches!(principal.kind, PrincipalKind::AssumedRole { .. })
            || principal.access_key_id.is_empty()
        {
            return Ok(());
        }
        if !self.is_quarantined(&principal.access_key_id).await? {
            return Ok(());
        }
        let list = self.list_for(&principal.account_id).await?;
        if is_high_risk(&list, ram_action) {
            Err(quarantined(&principal.access_key_id, ram_action))
        } else {
            Ok(())
        }
    }
}

fn key_not_exist() -> ApiError {
    entity_not_exist("User.AccessKey", "The user access key does not exist.")
}

fn account<'a>(call: &Call<'a>) -> &'a str {
    &call.auth.principal().account_id
}

fn owner_name(owner: &AccessKeyOwner) -> &str {
    match owner {
        AccessKeyOwner::Root => "root",
        AccessKeyOwner::User { user_name, .. } => user_name,
    }
}

fn quarantine_json(record: &QuarantineRecord, user_name: &str) -> Value {
    json!({
        "AccessKeyId": record.access_key_id,
        "UserName": user_name,
        "Reason": record.reason,
        "Source": record.source,
        "QuarantinedBy": record.quarantined_by,
        "QuarantineDate": util::iso8601(record.quarantined_at_ms),
    })
}

/// `QuarantineAccessKey`: `UserAccessKeyId`, optional `Reason` (≤ 1024 characters) and
/// `Source` (`api` by default; `scanner` from `cloudward scan-secrets`).
pub(super) fn quarantine_access_key(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let p = call.params;
        let key_id = required(p, "UserAccessKeyId")?;
        let reason = optional(p, "Reason").unwrap_or("");
        if reason.chars().count() > 1024 {
            return Err(invalid(
                "InvalidParameter.Reason.Length",
                "The parameter Reason must be at most 1024 characters.",
            ));
        }
        let source = optional(p, "Source").unwrap_or("api");
        if source.is_empty()
            || source.len() > 32
            || !source
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid(
                "InvalidParameter.Source",
                "The parameter Source must be 1 to 32 letters, digits, '-' or '_'.",
            ));
        }
        // Only keys of the caller's account: anything else is indistinguishable from a key
        // that does not exist (no cross-tenant probing).
        let key = call
            .state
            .store
            .find_access_key(key_id)
            .await
            .map_err(util::store_error)?
            .filter(|k| k.account_id == account(&call))
            .ok_or_else(key_not_exist)?;
        let record = QuarantineRecord {
            access_key_id: key.access_key_id.clone(),
            account_id: key.account_id.clone(),
            reason: reason.to_owned(),
            source: source.to_owned(),
            quarantined_by: call.auth.principal().arn(),
            quarantined_at_ms: util::now_ms(call.state),
        };
        call.state
            .store
            .put_quarantine(&record)
            .await
            .map_err(util::store_error)?;
        let body = quarantine_json(&record, owner_name(&key.owner));
        queue_notification(
            &call,
            "AccessKeyQuarantined",
            json!({ "Quarantine": body.clone() }),
        )
        .await?;
        Ok(json!({ "Quarantine": body }))
    })
}

/// `LiftAccessKeyQuarantine`: `UserAccessKeyId`. Audited like every call, and the contacts
/// are told.
pub(super) fn lift_access_key_quarantine(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let key_id = required(call.params, "UserAccessKeyId")?;
        let lifted = call
            .state
            .store
            .delete_quarantine(account(&call), key_id)
            .await
            .map_err(util::store_error)?;
        if !lifted {
            return Err(entity_not_exist(
                "AccessKey.Quarantine",
                "The AccessKey is not quarantined.",
            ));
        }
        queue_notification(
            &call,
            "AccessKeyQuarantineLifted",
            json!({
                "AccessKeyId": key_id,
                "LiftedBy": call.auth.principal().arn(),
                "LiftDate": util::iso8601(util::now_ms(call.state)),
            }),
        )
        .await?;
        Ok(json!({ "AccessKeyId": key_id }))
    })
}

/// `ListQuarantinedAccessKeys`.
pub(super) fn list_quarantined_access_keys(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let records = call
            .state
            .store
            .list_quarantines(account(&call))
            .await
            .map_err(util::store_error)?;
        let mut items = Vec::with_capacity(records.len());
        for record in &records {
            let user_name = call
                .state
                .store
                .find_access_key(&record.access_key_id)
                .await
                .map_err(util::store_error)?
                .filter(|k| k.account_id == record.account_id)
                .map(|k| owner_name(&k.owner).to_owned())
                .unwrap_or_default();
            items.push(quarantine_json(record, &user_name));
        }
        Ok(json!({ "Quarantines": { "Quarantine": items } }))
    })
}

/// `GetAccessKeyQuarantinePolicy`.
pub(super) fn get_access_key_quarantine_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let list = high_risk_actions(&call.state.store, account(&call)).await?;
        Ok(json!({
            "QuarantinePolicy": {
                "HighRiskActions": list,
                "AlwaysRefused": ALWAYS_REFUSED_WHEN_QUARANTINED,
            }
        }))
    })
}

/// `SetAccessKeyQuarantinePolicy`: `HighRiskActions`, a JSON array of RAM action patterns
/// (`service:Action`, `*` and `?` allowed), or the word `default`.
pub(super) fn set_access_key_quarantine_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let text = required(call.params, "HighRiskActions")?;
        let patterns = if text.trim().eq_ignore_ascii_case("default") {
            default_patterns()
        } else {
            parse_patterns(text)?
        };
        let stored = json!({ "HighRiskActions": patterns }).to_string();
        call.state
            .store
            .put_ram_setting(
                account(&call),
                QUARANTINE_POLICY,
                &stored,
                util::now_ms(call.state),
            )
            .await
            .map_err(util::store_error)?;
        Ok(json!({
            "QuarantinePolicy": {
                "HighRiskActions": patterns,
                "AlwaysRefused": ALWAYS_REFUSED_WHEN_QUARANTINED,
            }
        }))
    })
}

fn parse_patterns(text: &str) -> Result<Vec<String>, ApiError> {
    let bad = |detail: &str| {
        invalid(
            "InvalidParameter.HighRiskActions",
            format!(
                "HighRiskActions must be a JSON array of at most {MAX_PATTERNS} RAM action patterns such as \"ram:Create*\" or \"*:Delete*\": {detail}."
            ),
        )
    };
    let value: Value = serde_json::from_str(text).map_err(|_| bad("not a JSON array"))?;
    let items = value.as_array().ok_or_else(|| bad("not a JSON array"))?;
    if items.len() > MAX_PATTERNS {
        return Err(bad("too many patterns"));
    }
    let mut patterns = Vec::with_capacity(items.len());
    for item in items {
        let pattern = item
            .as_str()
            .ok_or_else(|| bad("an item is not a string"))?;
        let well_formed = !pattern.is_empty()
            && pattern.len() <= MAX_PATTERN_LEN
            && pattern.split_once(':').is_some_and(|(svc, act)| {
                !svc.is_empty()
                    && !act.is_empty()
                    && pattern
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"*?:-_".contains(&b))
            });
        if !well_formed {
            return Err(bad(&format!("{pattern:?} is not service:Action")));
        }
        patterns.push(pattern.to_owned());
    }
    Ok(patterns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_list_is_verbs_and_role_assumption() {
        let list = default_patterns();
        assert!(is_high_risk(&list, "ram:CreateUser"));
        assert!(is_high_risk(&list, "RAM:createuser"));
        assert!(is_high_risk(&list, "sts:AssumeRole"));
        assert!(!is_high_risk(&list, "ram:ListUsers"));
        assert!(!is_high_risk(&list, "sts:GetCallerIdentity"));
        assert!(!is_high_risk(&list, "actiontrail:LookupEvents"));
    }

    #[test]
    fn always_refused_even_with_an_empty_list() {
        assert!(is_high_risk(&[], "ram:LiftAccessKeyQuarantine"));
        assert!(is_high_risk(&[], "ram:SetAccessKeyQuarantinePolicy"));
        assert!(!is_high_risk(&[], "ram:CreateUser"));
    }

    #[test]
    fn patterns_are_validated() {
        assert!(parse_patterns(r#"["ram:Create*", "*:Delete*"]"#).is_ok());
        assert!(parse_patterns(r#"["CreateUser"]"#).is_err());
        assert!(parse_patterns(r#"["ram:"]"#).is_err());
        assert!(parse_patterns(r#"[1]"#).is_err());
        assert!(parse_patterns("{").is_err());
        assert!(parse_patterns(r#"["ram:Create User"]"#).is_err());
    }
}
