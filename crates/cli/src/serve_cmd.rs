//! `cloudward serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use cloudward_iam::bootstrap::SuppliedRootKey;
use cloudward_server::config::{AuditDurability, RootKeySource, ServerConfig};
use cloudward_server::{Server, system_clock};
use serde::Deserialize;
use zeroize::Zeroizing;

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (for log shippers).
    Json,
}

/// Flags of `cloudward serve`. Each also reads a `CLOUDWARD_*` environment variable; a
/// flag beats its variable, and both beat the config file.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML config file (keys as the long flags with `_`: data_dir, listen, tls_cert, ...).
    #[arg(long, env = "CLOUDWARD_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (store, audit log, root key) [default: ./cloudward-data].
    #[arg(long, env = "CLOUDWARD_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Listen address [default: 127.0.0.1:18080].
    #[arg(long, env = "CLOUDWARD_LISTEN")]
    listen: Option<SocketAddr>,
    /// TLS certificate chain (PEM). TLS is on when a certificate and key are given.
    #[arg(long, env = "CLOUDWARD_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "CLOUDWARD_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// PostgreSQL URL for the scale-out store (default: embedded SQLite in the data dir).
    #[arg(long, env = "CLOUDWARD_DATABASE_URL")]
    database_url: Option<String>,
    /// File holding the base64 root key (default: <data dir>/root.key, created 0600).
    #[arg(long, env = "CLOUDWARD_ROOT_KEY_FILE")]
    root_key_file: Option<PathBuf>,
    /// Region reported in responses and audit events [default: cn-hangzhou].
    #[arg(long, env = "CLOUDWARD_REGION")]
    region: Option<String>,
    /// Largest accepted request body in bytes [default: 1048576].
    #[arg(long, env = "CLOUDWARD_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// Audit commit durability: fsync (survives power loss) or os (survives a crash).
    #[arg(long, env = "CLOUDWARD_AUDIT_DURABILITY", value_parser = parse_durability)]
    audit_durability: Option<AuditDurability>,
    /// Log format [default: text].
    #[arg(long, env = "CLOUDWARD_LOG_FORMAT")]
    log_format: Option<LogFormat>,
    /// Log filter, e.g. `info` or `cloudward_server=debug` [default: info].
    #[arg(long, env = "CLOUDWARD_LOG")]
    log: Option<String>,
    /// Seconds between sweeps that disable idle RAM AccessKeys and console logins
    /// (0 = no automatic sweep) [default: 3600].
    #[arg(long, env = "CLOUDWARD_IDLE_SWEEP_SECS")]
    idle_sweep_secs: Option<u64>,
    /// Seconds between checks of the security-notification outbox [default: 5].
    #[arg(long, env = "CLOUDWARD_NOTIFY_POLL_SECS")]
    notify_poll_secs: Option<u64>,
    /// Let security webhooks reach loopback, private and link-local addresses (by default
    /// only public addresses: tenant administrators choose the URLs).
    #[arg(long, env = "CLOUDWARD_WEBHOOK_ALLOW_PRIVATE")]
    webhook_allow_private: bool,
    /// Console sign-in attempts allowed per source address per minute (0 = no limit)
    /// [default: 30].
    #[arg(long, env = "CLOUDWARD_SIGNIN_ATTEMPTS_PER_MINUTE")]
    signin_attempts_per_minute: Option<u32>,
}

fn parse_durability(text: &str) -> Result<AuditDurability, String> {
    match text {
        "fsync" => Ok(AuditDurability::Fsync),
        "os" => Ok(AuditDurability::Os),
        other => Err(format!("expected fsync or os, got {other:?}")),
    }
}

/// The config file: the same settings as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    database_url: Option<String>,
    root_key_file: Option<PathBuf>,
    region: Option<String>,
    max_body_bytes: Option<usize>,
    audit_durability: Option<AuditDurability>,
    log_format: Option<LogFormat>,
    log: Option<String>,
    clock_window_secs: Option<u64>,
    shutdown_grace_secs: Option<u64>,
    idle_sweep_secs: Option<u64>,
    notify_poll_secs: Option<u64>,
    webhook_allow_private: Option<bool>,
    signin_attempts_per_minute: Option<u32>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let file: FileConfig = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            toml::from_str(&text)
                .with_context(|| format!("invalid config file {}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let log_format = args
        .log_format
        .or(file.log_format)
        .unwrap_or(LogFormat::Text);
    let log_filter = args
        .log
        .clone()
        .or(file.log.clone())
        .unwrap_or_else(|| "info".to_owned());
    init_logging(log_format, &log_filter)?;

    let data_dir = args
        .data_dir
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from("./cloudward-data"));
    let mut config = ServerConfig::new(data_dir);
    if let Some(listen) = args.listen.or(file.listen) {
        config.listen = listen;
    }
    config.tls_cert = args.tls_cert.or(file.tls_cert);
    config.tls_key = args.tls_key.or(file.tls_key);
    config.database_url = args.database_url.or(file.database_url);
    if let Some(region) = args.region.or(file.region) {
        config.region = region;
    }
    if let Some(limit) = args.max_body_bytes.or(file.max_body_bytes) {
        config.max_body_bytes = limit;
    }
    if let Some(durability) = args.audit_durability.or(file.audit_durability) {
        config.audit_durability = durability;
    }
    if let Some(n) = args
        .signin_attempts_per_minute
        .or(file.signin_attempts_per_minute)
    {
        config.signin_attempts_per_minute = n;
    }
    config.webhook_allow_private_addresses =
        args.webhook_allow_private || file.webhook_allow_private.unwrap_or(false);
    if let Some(secs) = args.idle_sweep_secs.or(file.idle_sweep_secs) {
        config.idle_sweep_interval = Duration::from_secs(secs);
    }
    if let Some(secs) = args.notify_poll_secs.or(file.notify_poll_secs) {
        if secs == 0 {
            anyhow::bail!("notify_poll_secs must be at least 1");
        }
        config.notification_poll_interval = Duration::from_secs(secs);
    }
    if let Some(secs) = file.clock_window_secs {
        config.clock_window = Duration::from_secs(secs);
    }
    if let Some(secs) = file.shutdown_grace_secs {
        config.shutdown_grace = Duration::from_secs(secs);
    }
    let inline_key = std::env::var("CLOUDWARD_ROOT_KEY").ok().map(Zeroizing::new);
    config.root_key = match (inline_key, args.root_key_file.or(file.root_key_file)) {
        (Some(_), Some(_)) => bail!("set either CLOUDWARD_ROOT_KEY or a root key file, not both"),
        (Some(key), None) => RootKeySource::Inline(key),
        (None, Some(path)) => RootKeySource::File(path),
        (None, None) => RootKeySource::DataDir,
    };
    let supplied = supplied_root_key()?;

    let server = Server::prepare(config.clone(), supplied, system_clock())
        .await
        .context("cannot start")?;
    let addr = server.local_addr()?;
    if let Some((id, secret)) = &server.bootstrap.generated_root_key {
        // Printed exactly once, on the first start, and never logged.
        println!(
            "Created the management account {}.",
            server.bootstrap.account_id
        );
        println!("Its root AccessKey is shown now and never again; store it safely:");
        println!("  AccessKeyId:     {id}");
        println!("  AccessKeySecret: {}", secret.as_str());
        println!(
            "Configure the client with: cloudward configure --endpoint {}://{addr} --access-key-id {id}",
            if config.tls_enabled() {
                "https"
            } else {
                "http"
            }
        );
    }
    tracing::info!(
        %addr,
        tls = config.tls_enabled(),
        data_dir = %config.data_dir.display(),
        store = if config.database_url.is_some() { "postgres" } else { "sqlite" },
        account_id = %server.bootstrap.account_id,
        "cloudward is serving"
    );
    server.run(shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

fn supplied_root_key() -> anyhow::Result<Option<SuppliedRootKey>> {
    let id = std::env::var("CLOUDWARD_ROOT_ACCESS_KEY_ID").ok();
    let secret = std::env::var("CLOUDWARD_ROOT_ACCESS_KEY_SECRET")
        .ok()
        .map(Zeroizing::new);
    match (id, secret) {
        (None, None) => Ok(None),
        (Some(access_key_id), Some(access_key_secret)) => Ok(Some(SuppliedRootKey {
            access_key_id,
            access_key_secret,
        })),
        _ => bail!(
            "CLOUDWARD_ROOT_ACCESS_KEY_ID and CLOUDWARD_ROOT_ACCESS_KEY_SECRET must be given together"
        ),
    }
}

fn init_logging(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("invalid log filter {filter:?}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    result.map_err(|err| anyhow::anyhow!("cannot initialise logging: {err}"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
