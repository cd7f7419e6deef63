//! Friendly commands for the common identity flows, beside the generic `call`:
//! `cloudward ram ...`, `cloudward sts assume-role`, `cloudward rd tree`.
// Reading a `serde_json::Value` by key yields `Null` when the key is missing and never
// panics; the only writes by key are into objects this module built itself.
#![allow(clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::Value;

use crate::call_cmd::{report_error, send};
use crate::client::{Profile, ProfileFile, Signature, resolve_profile};
use crate::output::{Output, table};

/// Options shared by every friendly command.
#[derive(Debug, Args)]
pub struct Common {
    /// Profile name.
    #[arg(long, global = true)]
    profile: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Output::Table, global = true)]
    output: Output,
}

/// `cloudward ram ...`.
#[derive(Debug, Subcommand)]
pub enum RamCommand {
    /// Create a RAM user.
    CreateUser {
        /// User name.
        user_name: String,
        /// Display name.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Attach a policy to a user, group or role.
    AttachPolicy {
        /// Policy name, e.g. ReadOnlyAccess.
        policy_name: String,
        /// System or Custom.
        #[arg(long, default_value = "System")]
        policy_type: String,
        /// Attach to this user.
        #[arg(long, group = "target")]
        user: Option<String>,
        /// Attach to this group.
        #[arg(long, group = "target")]
        group: Option<String>,
        /// Attach to this role.
        #[arg(long, group = "target")]
        role: Option<String>,
    },
    /// Create an AccessKey for a user (the secret is shown once).
    CreateAccessKey {
        /// User name (omit for the caller's own key).
        #[arg(long)]
        user: Option<String>,
        /// Also save the new key as this client profile (same endpoint).
        #[arg(long)]
        save_profile: Option<String>,
    },
    /// Rotate an AccessKey: create the second key, switch the profile to it, check it
    /// works, deactivate the old key, delete it.
    ///
    /// Without --user this rotates the key the profile itself uses and rewrites that
    /// profile. With --user and --old-key an administrator rotates a user's key; the new
    /// key is printed once (or saved with --save-profile).
    RotateKey {
        /// The user whose key to rotate (administrator flow; needs --old-key).
        #[arg(long, requires = "old_key")]
        user: Option<String>,
        /// The key to replace (default: the profile's own key).
        #[arg(long)]
        old_key: Option<String>,
        /// Stop after deactivating the old key (delete it later with `cloudward call Ram
        /// DeleteAccessKey UserAccessKeyId=...`).
        #[arg(long)]
        keep_old: bool,
        /// Save the new key as this profile (administrator flow).
        #[arg(long)]
        save_profile: Option<String>,
    },
    /// Quarantine an AccessKey suspected to have leaked: high-risk actions are refused
    /// at once, reads keep working, the account's contacts are notified.
    QuarantineKey {
        /// The AccessKeyId.
        access_key_id: String,
        /// Why (e.g. where it was found).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Lift the quarantine of an AccessKey (audited; contacts are notified).
    LiftQuarantine {
        /// The AccessKeyId.
        access_key_id: String,
    },
    /// List quarantined AccessKeys.
    Quarantined,
    /// What each AccessKey touched, from the audit trail: services, actions and source
    /// addresses, with the last use of each.
    KeyAudit {
        /// Only this user's keys (default: every user's keys and the caller's own).
        #[arg(long)]
        user: Option<String>,
        /// Only this key.
        #[arg(long)]
        key: Option<String>,
    },
    /// Report RAM AccessKeys and console logins unused for the idle period (dry run).
    IdleReport,
    /// Disable idle RAM AccessKeys and console logins now (the server also does this on a
    /// schedule).
    DisableIdle {
        /// Only report what would be disabled.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `cloudward sts ...`.
#[derive(Debug, Subcommand)]
pub enum StsCommand {
    /// Assume a role and print the session (or save it as a profile).
    AssumeRole {
        /// Role ARN, e.g. acs:ram::1234567890123456:role/admin.
        role_arn: String,
        /// RoleSessionName.
        #[arg(long, default_value = "cloudward-cli")]
        session_name: String,
        /// DurationSeconds (900 .. the role's MaxSessionDuration).
        #[arg(long)]
        duration: Option<u32>,
        /// Session policy file (narrows the role's permissions).
        #[arg(long)]
        policy: Option<std::path::PathBuf>,
        /// ExternalId required by the role's trust policy.
        #[arg(long)]
        external_id: Option<String>,
        /// Save the session's credentials as this client profile.
        #[arg(long)]
        save_profile: Option<String>,
    },
}

/// `cloudward rd ...`.
#[derive(Debug, Subcommand)]
pub enum RdCommand {
    /// Print the organization as a tree of folders and accounts.
    Tree,
}

async fn api(
    profile: &Profile,
    product: &str,
    action: &str,
    params: BTreeMap<String, String>,
    output: Output,
) -> anyhow::Result<Result<Value, ExitCode>> {
    let version = crate::client::product_version(product)
        .with_context(|| format!("unknown product {product}"))?;
    let (status, value) = send(profile, action, version, &params, Signature::V3, None).await?;
    if status.is_success() {
        Ok(Ok(value))
    } else {
        report_error(status, &value, output);
        Ok(Err(ExitCode::from(if status.is_server_error() {
            3
        } else {
            1
        })))
    }
}

fn print(value: &Value, output: Output) {
    match output {
        Output::Json => outln!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        ),
        Output::Table => outln!("{}", table(value)),
    }
}

fn params(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| ((*k).to_owned(), v.to_owned())))
        .collect()
}

/// Runs `cloudward ram ...`.
pub async fn run_ram(cmd: RamCommand, common: Common) -> anyhow::Result<ExitCode> {
    let profile = resolve_profile(common.profile.as_deref())?;
    match cmd {
        RamCommand::CreateUser {
            user_name,
            display_name,
        } => {
            let p = params(&[
                ("UserName", Some(&user_name)),
                ("DisplayName", display_name.as_deref()),
            ]);
            match api(&profile, "Ram", "CreateUser", p, common.output).await? {
                Ok(v) => print(&v, common.output),
                Err(code) => return Ok(code),
            }
        }
        RamCommand::AttachPolicy {
            policy_name,
            policy_type,
            user,
            group,
            role,
        } => {
            let (action, key, name) = match (user, group, role) {
                (Some(u), None, None) => ("AttachPolicyToUser", "UserName", u),
                (None, Some(g), None) => ("AttachPolicyToGroup", "GroupName", g),
                (None, None, Some(r)) => ("AttachPolicyToRole", "RoleName", r),
                _ => bail!("name exactly one of --user, --group or --role"),
            };
            let p = params(&[
                ("PolicyName", Some(&policy_name)),
                ("PolicyType", Some(&policy_type)),
                (key, Some(&name)),
            ]);
            match api(&profile, "Ram", action, p, common.output).await? {
                Ok(_) => eprintln!("Attached {policy_type} policy {policy_name} to {name}."),
                Err(code) => return Ok(code),
            }
        }
        RamCommand::CreateAccessKey { user, save_profile } => {
            let p = params(&[("UserName", user.as_deref())]);
            let value = match api(&profile, "Ram", "CreateAccessKey", p, common.output).await? {
                Ok(v) => v,
                Err(code) => return Ok(code),
            };
            print(&value, common.output);
            eprintln!("The AccessKeySecret is shown now and never again.");
            if let Some(name) = save_profile {
                let key = &value["AccessKey"];
                let id = key["AccessKeyId"]
                    .as_str()
                    .context("no AccessKeyId in the answer")?;
                let secret = key["AccessKeySecret"]
                    .as_str()
                    .context("no AccessKeySecret in the answer")?;
                save(&name, &profile, id, secret, None)?;
            }
        }
        RamCommand::RotateKey {
            user,
            old_key,
            keep_old,
            save_profile,
        } => {
            return rotate_key(
                &profile,
                common.profile.as_deref(),
                RotateOptions {
                    user,
                    old_key,
                    keep_old,
                    save_profile,
                },
                common.output,
            )
            .await;
        }
        RamCommand::QuarantineKey {
            access_key_id,
            reason,
        } => {
            let p = params(&[
                ("UserAccessKeyId", Some(&access_key_id)),
                ("Reason", reason.as_deref()),
            ]);
            match api(&profile, "Ram", "QuarantineAccessKey", p, common.output).await? {
                Ok(v) => print(&v["Quarantine"], common.output),
                Err(code) => return Ok(code),
            }
        }
        RamCommand::LiftQuarantine { access_key_id } => {
            let p = params(&[("UserAccessKeyId", Some(&access_key_id))]);
            match api(&profile, "Ram", "LiftAccessKeyQuarantine", p, common.output).await? {
                Ok(_) => eprintln!("Quarantine of {access_key_id} lifted."),
                Err(code) => return Ok(code),
            }
        }
        RamCommand::KeyAudit { user, key } => {
            return key_audit(&profile, user.as_deref(), key.as_deref(), common.output).await;
        }
        RamCommand::Quarantined => {
            match api(
                &profile,
                "Ram",
                "ListQuarantinedAccessKeys",
                BTreeMap::new(),
                common.output,
            )
            .await?
            {
                Ok(v) => print(&v["Quarantines"]["Quarantine"], common.output),
                Err(code) => return Ok(code),
            }
        }
        RamCommand::IdleReport | RamCommand::DisableIdle { .. } => {
            let (action, p) = match cmd {
                RamCommand::DisableIdle { dry_run } => (
                    "DisableIdleCredentials",
                    params(&[("DryRun", Some(if dry_run { "true" } else { "false" }))]),
                ),
                _ => ("GetIdleCredentialReport", BTreeMap::new()),
            };
            let value = match api(&profile, "Ram", action, p, common.output).await? {
                Ok(v) => v,
                Err(code) => return Ok(code),
            };
            let report = &value["IdleCredentialReport"];
            match common.output {
                Output::Json => print(report, common.output),
                Output::Table => {
                    let mut rows = Vec::new();
                    for (kind, list) in [
                        ("AccessKey", &report["AccessKeys"]["AccessKey"]),
                        ("ConsoleLogin", &report["LoginProfiles"]["LoginProfile"]),
                    ] {
                        for item in list.as_array().into_iter().flatten() {
                            rows.push(serde_json::json!({
                                "Credential": kind,
                                "UserName": item["UserName"],
                                "AccessKeyId": item["AccessKeyId"],
                                "LastUsedDate": item["LastUsedDate"],
                                "IdleDays": item["IdleDays"],
                                "Action": item["Action"],
                            }));
                        }
                    }
                    if rows.is_empty() {
                        outln!("No idle credentials.");
                    } else {
                        outln!("{}", table(&Value::Array(rows)));
                    }
                    eprintln!(
                        "Idle periods: AccessKeys {} days, console logins {} days (0 = never).",
                        report["MaxIdleDaysForAccessKeys"], report["MaxIdleDaysForUsers"]
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One key to audit: id, owner and status.
struct AuditedKey {
    id: String,
    user: String,
    status: String,
}

/// The keys `key-audit` covers.
async fn keys_to_audit(
    profile: &Profile,
    user: Option<&str>,
    key: Option<&str>,
    output: Output,
) -> anyhow::Result<Result<Vec<AuditedKey>, ExitCode>> {
    let mut owners: Vec<Option<String>> = Vec::new();
    match user {
        Some(name) => owners.push(Some(name.to_owned())),
        None => {
            owners.push(None);
            let mut marker: Option<String> = None;
            loop {
                let p = params(&[("MaxItems", Some("1000")), ("Marker", marker.as_deref())]);
                let page = match api(profile, "Ram", "ListUsers", p, output).await? {
                    Ok(v) => v,
                    Err(code) => return Ok(Err(code)),
                };
                for u in page["Users"]["User"].as_array().into_iter().flatten() {
                    if let Some(name) = u["UserName"].as_str() {
                        owners.push(Some(name.to_owned()));
                    }
                }
                marker = page["Marker"].as_str().map(str::to_owned);
                if page["IsTruncated"] != Value::Bool(true) || marker.is_none() {
                    break;
                }
            }
        }
    }
    let mut keys = Vec::new();
    for owner in owners {
        let p = params(&[("UserName", owner.as_deref())]);
        let listed = match api(profile, "Ram", "ListAccessKeys", p, output).await? {
            Ok(v) => v,
            // The caller's own keys are listable only for users and root; skip otherwise.
            Err(_) if owner.is_none() => continue,
            Err(code) => return Ok(Err(code)),
        };
        for k in listed["AccessKeys"]["AccessKey"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let id = k["AccessKeyId"].as_str().unwrap_or("").to_owned();
            if key.is_some_and(|wanted| wanted != id) {
                continue;
            }
            keys.push(AuditedKey {
                id,
                user: owner.clone().unwrap_or_else(|| "(caller)".to_owned()),
                status: k["Status"].as_str().unwrap_or("").to_owned(),
            });
        }
    }
    Ok(Ok(keys))
}

/// `UsedTimestamp` (ms since the epoch) as ISO 8601, or as given.
fn used_at(value: &Value) -> String {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .and_then(|ms| time::OffsetDateTime::from_unix_timestamp(ms / 1000).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| value.as_str().unwrap_or("").to_owned())
}

/// Runs `cloudward ram key-audit`.
async fn key_audit(
    profile: &Profile,
    user: Option<&str>,
    key: Option<&str>,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let keys = match keys_to_audit(profile, user, key, output).await? {
        Ok(keys) => keys,
        Err(code) => return Ok(code),
    };
    if keys.is_empty() {
        bail!("no AccessKeys matched");
    }
    let mut report = Vec::new();
    for k in &keys {
        let products = match api(
            profile,
            "Actiontrail",
            "GetAccessKeyLastUsedProducts",
            params(&[("AccessKey", Some(&k.id))]),
            output,
        )
        .await?
        {
            Ok(v) => v["Products"].as_array().cloned().unwrap_or_default(),
            Err(code) => return Ok(code),
        };
        let mut services = Vec::new();
        for product in products {
            let service = product["ServiceName"].as_str().unwrap_or("").to_owned();
            let mut lists = Vec::new();
            for (action, field, item) in [
                ("GetAccessKeyLastUsedEvents", "Events", "EventName"),
                ("GetAccessKeyLastUsedIps", "Ips", "Ip"),
            ] {
                let p = params(&[
                    ("AccessKey", Some(&k.id)),
                    ("ServiceName", Some(&service)),
                    ("PageSize", Some("100")),
                ]);
                let found = match api(profile, "Actiontrail", action, p, output).await? {
                    Ok(v) => v[field].as_array().cloned().unwrap_or_default(),
                    Err(code) => return Ok(code),
                };
                lists.push(
                    found
                        .iter()
                        .map(|e| {
                            serde_json::json!({
                                "Name": e[item],
                                "LastUsed": used_at(&e["UsedTimestamp"]),
                            })
                        })
                        .collect::<Vec<_>>(),
                );
            }
            let ips = lists.pop().unwrap_or_default();
            let events = lists.pop().unwrap_or_default();
            services.push(serde_json::json!({
                "ServiceName": service,
                "LastUsed": used_at(&product["UsedTimestamp"]),
                "Actions": events,
                "SourceIps": ips,
            }));
        }
        report.push(serde_json::json!({
            "AccessKeyId": k.id,
            "UserName": k.user,
            "Status": k.status,
            "Services": services,
        }));
    }
    match output {
        Output::Json => print(&Value::Array(report), output),
        Output::Table => {
            let names = |list: &Value| {
                list.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["Name"].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut rows = Vec::new();
            for k in &report {
                let services = k["Services"].as_array().cloned().unwrap_or_default();
                if services.is_empty() {
                    rows.push(serde_json::json!({
                        "AccessKeyId": k["AccessKeyId"], "UserName": k["UserName"],
                        "Status": k["Status"], "Service": "(unused)", "LastUsed": "",
                        "Actions": "", "SourceIps": "",
                    }));
                }
                for s in services {
                    rows.push(serde_json::json!({
                        "AccessKeyId": k["AccessKeyId"], "UserName": k["UserName"],
                        "Status": k["Status"], "Service": s["ServiceName"],
                        "LastUsed": s["LastUsed"], "Actions": names(&s["Actions"]),
                        "SourceIps": names(&s["SourceIps"]),
                    }));
                }
            }
            outln!("{}", table(&Value::Array(rows)));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Options of `ram rotate-key`.
struct RotateOptions {
    user: Option<String>,
    old_key: Option<String>,
    keep_old: bool,
    save_profile: Option<String>,
}

/// The rotation flow. Each step says what it did, so a failure part-way leaves the user
/// knowing exactly which keys exist and which one the profile holds.
async fn rotate_key(
    profile: &Profile,
    profile_name: Option<&str>,
    options: RotateOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let own_key = options.user.is_none();
    let old_key = options
        .old_key
        .clone()
        .unwrap_or_else(|| profile.access_key_id.clone());
    if own_key && profile.security_token.is_some() {
        bail!("the profile holds STS session credentials; only permanent AccessKeys rotate");
    }
    // The profile to rewrite: the named one, or the file's current one. A key that came
    // from environment variables cannot be switched for the user.
    let file = ProfileFile::load()?;
    let target_profile = if own_key {
        let name = file.chosen_name(profile_name);
        match file.profiles.get(&name) {
            Some(p) if p.access_key_id == old_key => Some(name),
            _ => bail!(
                "the key {old_key} does not come from a saved profile (environment variables?); rotate it with --user and --old-key from an administrator profile, then update your environment"
            ),
        }
    } else {
        options.save_profile.clone()
    };
    let user_param = options.user.as_deref();

    // 1. The second key.
    let created = match api(
        profile,
        "Ram",
        "CreateAccessKey",
        params(&[("UserName", user_param)]),
        output,
    )
    .await?
    {
        Ok(v) => v,
        Err(code) => {
            eprintln!("Step 1/4 failed: no new key was created; {old_key} is unchanged.");
            return Ok(code);
        }
    };
    let new_id = created["AccessKey"]["AccessKeyId"]
        .as_str()
        .context("no AccessKeyId in the answer")?
        .to_owned();
    let new_secret = created["AccessKey"]["AccessKeySecret"]
        .as_str()
        .context("no AccessKeySecret in the answer")?
        .to_owned();
    eprintln!("1/4 created {new_id}");

    // 2. Switch the profile, then prove the new key works before touching the old one.
    let new_profile = Profile {
        access_key_id: new_id.clone(),
        access_key_secret: new_secret.clone(),
        security_token: None,
        ..profile.clone()
    };
    match &target_profile {
        Some(name) => {
            save(name, profile, &new_id, &new_secret, None)?;
            eprintln!("2/4 profile {name:?} now uses {new_id}");
        }
        None => {
            print(&created, output);
            eprintln!("2/4 the new secret is shown now and never again");
        }
    }
    let caller = if own_key { &new_profile } else { profile };
    let mut verified = false;
    for _ in 0..10 {
        if let Ok((status, _)) = send(
            &new_profile,
            "GetCallerIdentity",
            "2015-04-01",
            &BTreeMap::new(),
            Signature::V3,
            None,
        )
        .await
            && status.is_success()
        {
            verified = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    if !verified {
        eprintln!(
            "The new key {new_id} does not authenticate; {old_key} was left active. Investigate before retrying."
        );
        return Ok(ExitCode::from(1));
    }

    // 3. Deactivate the old key (a client still using it fails now, visibly, and the key
    //    can be re-activated if something critical breaks).
    let deactivate = params(&[
        ("UserName", user_param),
        ("UserAccessKeyId", Some(&old_key)),
        ("Status", Some("Inactive")),
    ]);
    if let Err(code) = api(caller, "Ram", "UpdateAccessKey", deactivate, output).await? {
        eprintln!("Step 3/4 failed: {old_key} is still active; {new_id} is in use.");
        return Ok(code);
    }
    eprintln!("3/4 deactivated {old_key}");

    // 4. Delete it.
    if options.keep_old {
        eprintln!(
            "4/4 kept {old_key} (inactive); delete it with `cloudward call Ram DeleteAccessKey UserAccessKeyId={old_key}`"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let delete = params(&[
        ("UserName", user_param),
        ("UserAccessKeyId", Some(&old_key)),
    ]);
    if let Err(code) = api(caller, "Ram", "DeleteAccessKey", delete, output).await? {
        eprintln!("Step 4/4 failed: {old_key} is inactive but not deleted.");
        return Ok(code);
    }
    eprintln!("4/4 deleted {old_key}");
    Ok(ExitCode::SUCCESS)
}

/// Runs `cloudward sts ...`.
pub async fn run_sts(cmd: StsCommand, common: Common) -> anyhow::Result<ExitCode> {
    let profile = resolve_profile(common.profile.as_deref())?;
    let StsCommand::AssumeRole {
        role_arn,
        session_name,
        duration,
        policy,
        external_id,
        save_profile,
    } = cmd;
    let policy_text = match &policy {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        ),
        None => None,
    };
    let duration = duration.map(|d| d.to_string());
    let p = params(&[
        ("RoleArn", Some(&role_arn)),
        ("RoleSessionName", Some(&session_name)),
        ("DurationSeconds", duration.as_deref()),
        ("Policy", policy_text.as_deref()),
        ("ExternalId", external_id.as_deref()),
    ]);
    let value = match api(&profile, "Sts", "AssumeRole", p, common.output).await? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    let creds = &value["Credentials"];
    match save_profile {
        Some(name) => {
            let id = creds["AccessKeyId"].as_str().context("no AccessKeyId")?;
            let secret = creds["AccessKeySecret"]
                .as_str()
                .context("no AccessKeySecret")?;
            let token = creds["SecurityToken"]
                .as_str()
                .context("no SecurityToken")?;
            save(&name, &profile, id, secret, Some(token))?;
            eprintln!(
                "Session {} saved as profile {name:?}; it expires at {}.",
                value["AssumedRoleUser"]["Arn"].as_str().unwrap_or(""),
                creds["Expiration"].as_str().unwrap_or("?")
            );
        }
        None => print(&value, common.output),
    }
    Ok(ExitCode::SUCCESS)
}

fn save(
    name: &str,
    base: &Profile,
    id: &str,
    secret: &str,
    token: Option<&str>,
) -> anyhow::Result<()> {
    let mut file = ProfileFile::load()?;
    file.profiles.insert(
        name.to_owned(),
        Profile {
            endpoint: base.endpoint.clone(),
            access_key_id: id.to_owned(),
            access_key_secret: secret.to_owned(),
            security_token: token.map(str::to_owned),
            region: base.region.clone(),
        },
    );
    let path = file.save()?;
    eprintln!("Saved profile {name:?} to {}.", path.display());
    Ok(())
}

/// Runs `cloudward rd tree`.
pub async fn run_rd(cmd: RdCommand, common: Common) -> anyhow::Result<ExitCode> {
    let profile = resolve_profile(common.profile.as_deref())?;
    let RdCommand::Tree = cmd;
    let dir = match api(
        &profile,
        "ResourceDirectoryMaster",
        "GetResourceDirectory",
        BTreeMap::new(),
        common.output,
    )
    .await?
    {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    let root_id = dir["ResourceDirectory"]["RootFolderId"]
        .as_str()
        .context("GetResourceDirectory returned no RootFolderId")?
        .to_owned();
    let mut tree = serde_json::json!({"FolderId": root_id, "FolderName": "Root"});
    let mut lines = Vec::new();
    walk(&profile, &mut tree, 0, &mut lines, common.output).await?;
    match common.output {
        Output::Json => outln!("{}", serde_json::to_string_pretty(&tree)?),
        Output::Table => {
            for line in lines {
                outln!("{line}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Lists every page of an RD list action.
async fn list_all(
    profile: &Profile,
    action: &str,
    parent: &str,
    container: &str,
    item: &str,
    output: Output,
) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for page in 1..=1000 {
        let p = params(&[
            ("ParentFolderId", Some(parent)),
            ("PageNumber", Some(&page.to_string())),
            ("PageSize", Some("100")),
        ]);
        let value = match api(profile, "ResourceDirectoryMaster", action, p, output).await? {
            Ok(v) => v,
            Err(_) => bail!("{action} failed for folder {parent}"),
        };
        let items = value[container][item]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let n = items.len();
        out.extend(items);
        let total = value["TotalCount"].as_u64().unwrap_or(0);
        if n < 100 || out.len() as u64 >= total {
            break;
        }
    }
    Ok(out)
}

fn walk<'a>(
    profile: &'a Profile,
    node: &'a mut Value,
    depth: usize,
    lines: &'a mut Vec<String>,
    output: Output,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + 'a>> {
    Box::pin(async move {
        let folder_id = node["FolderId"].as_str().unwrap_or("").to_owned();
        let indent = "  ".repeat(depth);
        lines.push(format!(
            "{indent}📁 {} ({folder_id})",
            node["FolderName"].as_str().unwrap_or("")
        ));
        let accounts = list_all(
            profile,
            "ListAccountsForParent",
            &folder_id,
            "Accounts",
            "Account",
            output,
        )
        .await?;
        for account in &accounts {
            lines.push(format!(
                "{indent}  • {} ({})",
                account["DisplayName"].as_str().unwrap_or(""),
                account["AccountId"].as_str().unwrap_or("")
            ));
        }
        let mut folders = list_all(
            profile,
            "ListFoldersForParent",
            &folder_id,
            "Folders",
            "Folder",
            output,
        )
        .await?;
        for folder in &mut folders {
            walk(profile, folder, depth + 1, lines, output).await?;
        }
        node["Accounts"] = Value::Array(accounts);
        node["Folders"] = Value::Array(folders);
        Ok(())
    })
}
