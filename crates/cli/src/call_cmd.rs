//! `cloudward call <Product> <Action> Key=Value ...`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use owo_colors::{OwoColorize, Stream};
use serde_json::Value;

use crate::client::{Signature, product_version, resolve_profile, sign_call};
use crate::output::{Output, table};

/// Flags of `cloudward call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Product: Sts, Ram, ResourceDirectoryMaster, Actiontrail, ...
    product: String,
    /// Action name, e.g. GetCallerIdentity.
    action: String,
    /// Parameters as Key=Value.
    params: Vec<String>,
    /// API version (default: the product's version).
    #[arg(long)]
    version: Option<String>,
    /// Profile name.
    #[arg(long)]
    profile: Option<String>,
    /// Signature scheme.
    #[arg(long, value_enum, default_value_t = Signature::V3)]
    signature: Signature,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Output::Json)]
    output: Output,
    /// Extra CA certificate (PEM) to trust for https endpoints.
    #[arg(long)]
    ca_cert: Option<std::path::PathBuf>,
}

pub async fn run(args: CallArgs) -> anyhow::Result<ExitCode> {
    let version = match (&args.version, product_version(&args.product)) {
        (Some(v), _) => v.clone(),
        (None, Some(v)) => v.to_owned(),
        (None, None) => bail!(
            "unknown product {:?}; pass --version or use one of Sts, Ram, Ims, ResourceDirectoryMaster, Actiontrail, Config, Kms",
            args.product
        ),
    };
    let mut params = BTreeMap::new();
    for pair in &args.params {
        let Some((k, v)) = pair.split_once('=') else {
            bail!("parameter {pair:?} is not Key=Value");
        };
        if params.insert(k.to_owned(), v.to_owned()).is_some() {
            bail!("parameter {k:?} given twice");
        }
    }
    let profile = resolve_profile(args.profile.as_deref())?;
    if let Some(path) = &args.ca_cert {
        // A bad certificate file is a usage error (exit 2), not an unreachable server.
        let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        reqwest::Certificate::from_pem(&pem)
            .with_context(|| format!("{} is not a PEM certificate", path.display()))?;
    }
    let (status, value) = match send(
        &profile,
        &args.action,
        &version,
        &params,
        args.signature,
        args.ca_cert.as_deref(),
    )
    .await
    {
        Ok(answer) => answer,
        Err(err) => {
            eprintln!("error: {err:#}");
            return Ok(ExitCode::from(3));
        }
    };
    if status.is_success() {
        match args.output {
            Output::Json => outln!("{}", serde_json::to_string_pretty(&value)?),
            Output::Table => outln!("{}", table(&value)),
        }
        Ok(ExitCode::SUCCESS)
    } else {
        report_error(status, &value, args.output);
        Ok(ExitCode::from(if status.is_server_error() { 3 } else { 1 }))
    }
}

/// Sends one signed call and returns the HTTP status and the parsed body.
pub async fn send(
    profile: &crate::client::Profile,
    action: &str,
    version: &str,
    params: &BTreeMap<String, String>,
    signature: Signature,
    ca_cert: Option<&std::path::Path>,
) -> anyhow::Result<(reqwest::StatusCode, Value)> {
    let signed = sign_call(profile, action, version, params, signature)?;
    let mut builder = reqwest::Client::builder();
    if let Some(path) = ca_cert {
        let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .with_context(|| format!("{} is not a PEM certificate", path.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    let client = builder.build().context("cannot build the HTTP client")?;
    let mut request = client.post(&signed.url).body(signed.body);
    for (k, v) in &signed.headers {
        request = request.header(k, v);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {}", profile.endpoint))?;
    let status = response.status();
    let text = response.text().await.context("cannot read the response")?;
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((status, value))
}

/// Prints an API error for people on stderr (and the raw body as JSON on stdout when the
/// output is for machines).
pub fn report_error(status: reqwest::StatusCode, value: &Value, output: Output) {
    {
        let code = value.get("Code").and_then(Value::as_str).unwrap_or("?");
        let message = value.get("Message").and_then(Value::as_str).unwrap_or("");
        let request_id = value.get("RequestId").and_then(Value::as_str).unwrap_or("");
        eprintln!(
            "{} {} (HTTP {}): {}",
            "error:".if_supports_color(Stream::Stderr, |t| t.red()),
            code.if_supports_color(Stream::Stderr, |t| t.bold()),
            status.as_u16(),
            message
        );
        if let Some(detail) = value.get("AccessDeniedDetail") {
            eprintln!(
                "AccessDeniedDetail: {}",
                serde_json::to_string_pretty(detail).unwrap_or_default()
            );
        }
        if !request_id.is_empty() {
            eprintln!("RequestId: {request_id}");
        }
        if !std::io::stdout().is_terminal() || output == Output::Json {
            outln!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        }
    }
}
