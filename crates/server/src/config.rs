//! Server settings. The CLI merges flags, `CLOUDWARD_*` environment variables and the
//! config file (in that order of precedence) into one [`ServerConfig`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Where the 32-byte root key that encrypts secrets at rest comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootKeySource {
    /// `<data dir>/root.key`, created with mode 0600 on first start.
    DataDir,
    /// A file supplied by the operator (e.g. mounted from a secret store); never created.
    File(PathBuf),
    /// Base64 of 32 bytes in `CLOUDWARD_ROOT_KEY`.
    Inline(zeroize::Zeroizing<String>),
}

/// How hard the audit log pushes each commit to disk before answering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditDurability {
    /// fsync on every group commit: survives power loss (default).
    Fsync,
    /// Written to the OS before answering: survives a process crash, not power loss.
    Os,
}

/// Every setting of `cloudward serve`.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Data directory holding the store, the audit log and (by default) the root key.
    pub data_dir: PathBuf,
    /// Listen address.
    pub listen: SocketAddr,
    /// TLS certificate chain (PEM); TLS is on when both this and `tls_key` are set.
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// PostgreSQL URL for the scale-out store; `None` uses embedded SQLite.
    pub database_url: Option<String>,
    /// Root key location.
    pub root_key: RootKeySource,
    /// Region reported in responses and audit events.
    pub region: String,
    /// `HostId` in error envelopes.
    pub host_id: String,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Accepted clock skew for `Timestamp` / `x-acs-date` and the nonce replay window.
    pub clock_window: Duration,
    /// Most nonces remembered at once; beyond this, requests are refused (fail closed).
    pub nonce_capacity: usize,
    /// How long in-flight requests may take to finish on shutdown.
    pub shutdown_grace: Duration,
    /// Audit commit durability.
    pub audit_durability: AuditDurability,
    /// How long an AccessKey lookup is cached (status changes made through this node
    /// take effect at once; other nodes see them within this time).
    pub credential_cache_ttl: Duration,
    /// How often idle RAM credentials are looked for and disabled (zero: never; the
    /// `DisableIdleCredentials` action still works).
    pub idle_sweep_interval: Duration,
    /// How often the outbox of security notifications is checked for due deliveries.
    pub notification_poll_interval: Duration,
    /// Whether security webhooks may reach loopback, private and link-local addresses
    /// (off: tenant administrators choose the URLs).
    pub webhook_allow_private_addresses: bool,
    /// Console sign-in attempts allowed per source address per minute (0: no limit).
    pub signin_attempts_per_minute: u32,
}

impl ServerConfig {
    /// Defaults for a data directory: `127.0.0.1:18080`, embedded store, key in the dir.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            listen: SocketAddr::from(([127, 0, 0, 1], 18080)),
            tls_cert: None,
            tls_key: None,
            database_url: None,
            root_key: RootKeySource::DataDir,
            region: "cn-hangzhou".to_owned(),
            host_id: "cloudward".to_owned(),
            max_body_bytes: 1024 * 1024,
            clock_window: Duration::from_secs(15 * 60),
            nonce_capacity: 4_000_000,
            shutdown_grace: Duration::from_secs(30),
            audit_durability: AuditDurability::Fsync,
            credential_cache_ttl: Duration::from_secs(5),
            idle_sweep_interval: Duration::from_secs(3600),
            notification_poll_interval: Duration::from_secs(5),
            webhook_allow_private_addresses: false,
            signin_attempts_per_minute: 30,
        }
    }

    /// Whether TLS is configured.
    pub fn tls_enabled(&self) -> bool {
        self.tls_cert.is_some() && self.tls_key.is_some()
    }
}
