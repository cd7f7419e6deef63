//! `cloudward configure`: create or update a profile.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::client::{Profile, ProfileFile};

/// Flags of `cloudward configure`. Missing values are asked for on a terminal; the secret
/// is read from `--access-key-secret-stdin` or a prompt, never from a flag (flags end up in
/// shell history and process lists).
#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// Profile name.
    #[arg(long, default_value = "default")]
    profile: String,
    /// Endpoint URL, e.g. http://127.0.0.1:18080.
    #[arg(long)]
    endpoint: Option<String>,
    /// AccessKeyId.
    #[arg(long)]
    access_key_id: Option<String>,
    /// Read the AccessKey secret from standard input (one line).
    #[arg(long)]
    access_key_secret_stdin: bool,
    /// STS security token (for temporary credentials).
    #[arg(long)]
    security_token: Option<String>,
    /// Region id.
    #[arg(long)]
    region: Option<String>,
    /// Do not make this the current profile.
    #[arg(long)]
    no_switch: bool,
}

pub fn run(args: ConfigureArgs) -> anyhow::Result<ExitCode> {
    let mut file = ProfileFile::load()?;
    let mut profile = file
        .profiles
        .get(&args.profile)
        .cloned()
        .unwrap_or(Profile {
            endpoint: "http://127.0.0.1:18080".to_owned(),
            region: "cn-hangzhou".to_owned(),
            ..Profile::default()
        });
    let interactive = std::io::stdin().is_terminal();
    if let Some(endpoint) = args.endpoint {
        profile.endpoint = endpoint;
    } else if interactive {
        profile.endpoint = prompt("Endpoint", &profile.endpoint)?;
    }
    if let Some(id) = args.access_key_id {
        profile.access_key_id = id;
    } else if interactive {
        profile.access_key_id = prompt("AccessKeyId", &profile.access_key_id)?;
    }
    if args.access_key_secret_stdin || interactive {
        if interactive && !args.access_key_secret_stdin {
            eprint!("AccessKeySecret: ");
            std::io::stderr().flush()?;
        }
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the secret from standard input")?;
        let secret = line.trim().to_owned();
        if !secret.is_empty() {
            profile.access_key_secret = secret;
        }
    }
    if let Some(token) = args.security_token {
        profile.security_token = if token.is_empty() { None } else { Some(token) };
    }
    if let Some(region) = args.region {
        profile.region = region;
    }
    if profile.access_key_id.is_empty() || profile.access_key_secret.is_empty() {
        anyhow::bail!(
            "a profile needs an AccessKeyId (--access-key-id) and a secret (--access-key-secret-stdin)"
        );
    }
    file.profiles.insert(args.profile.clone(), profile);
    if !args.no_switch || file.current.is_empty() {
        file.current = args.profile.clone();
    }
    let path = file.save()?;
    eprintln!("Saved profile {:?} to {}", args.profile, path.display());
    Ok(ExitCode::SUCCESS)
}

fn prompt(label: &str, current: &str) -> anyhow::Result<String> {
    eprint!("{label} [{current}]: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let value = line.trim();
    Ok(if value.is_empty() {
        current.to_owned()
    } else {
        value.to_owned()
    })
}
