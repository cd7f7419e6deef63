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
    }
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
