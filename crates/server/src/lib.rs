//! HTTP wiring of the control plane: the RPC endpoint, the console sign-in page and session
//! API ([`console`]), `/healthz`, `/metrics`, TLS and graceful shutdown.
//!
//! Request path (see ARCHITECTURE.md): [`rpc::handle`] → protocol parse →
//! [`auth::Authenticator`] → registry lookup → `Authorizer` → handler → `cloudward_audit::AuditLog`
//! (durable) → response.

pub mod auth;
pub mod config;
pub mod console;
pub mod limiter;
pub mod metrics;
pub mod nonce;
pub mod protection;
pub mod rootkey;
pub mod rpc;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use cloudward_iam::authz::IamPolicySource;
use cloudward_iam::bootstrap::{Bootstrap, SuppliedRootKey, ensure_management_account};
use cloudward_protocol::Limits;
use cloudward_service::{Authorizer, Clock, Registry, SecretBox, ServiceState, SystemClock};
use cloudward_store::Store;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use thiserror::Error;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::auth::{Authenticator, CredentialCache};
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::nonce::NonceCache;
use crate::rpc::ConnInfo;
use cloudward_audit::{AuditLog, AuditWriter};

/// Why the server could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum ServeError {
    /// A setting is wrong or a file is unusable.
    #[error("configuration error: {0}")]
    Config(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] cloudward_store::StoreError),
    /// Bootstrap failed.
    #[error(transparent)]
    Bootstrap(#[from] cloudward_iam::bootstrap::BootstrapError),
    /// Listening or accepting failed.
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
}

/// Shared state of a running server.
#[derive(Debug)]
pub struct App {
    /// Settings.
    pub config: ServerConfig,
    /// Limits for request parsing.
    pub limits: Limits,
    /// Action table.
    pub registry: Registry,
    /// Policy decision point.
    pub authorizer: Authorizer,
    /// The RAM-backed policy source behind the authorizer (its cache is invalidated after
    /// every successful identity-changing write).
    pub iam_policies: Arc<IamPolicySource>,
    /// Signature verification and credential lookup.
    pub authenticator: Authenticator,
    /// State handed to handlers.
    pub service: ServiceState,
    /// Durable audit log.
    pub audit: AuditLog,
    /// Metrics.
    pub metrics: Metrics,
    /// Per-address limit on console sign-in attempts.
    pub signin_limiter: limiter::SigninLimiter,
}

/// A server that has opened its store and bound its socket, ready to run.
pub struct Server {
    app: Arc<App>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    audit_writer: AuditWriter,
    /// First-start result: the management account and a freshly generated root key.
    pub bootstrap: Bootstrap,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listen", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Opens the data directory and store, bootstraps the management account, and binds
    /// the listener. Every misconfiguration is an error here, before any request.
    pub async fn prepare(
        config: ServerConfig,
        supplied_root_key: Option<SuppliedRootKey>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ServeError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|err| {
            ServeError::Config(format!(
                "cannot create data directory {}: {err}",
                config.data_dir.display()
            ))
        })?;
        // The webhook client (reqwest) uses rustls with the process-wide provider; ring is
        // ours everywhere. Installing fails only if one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let root_key = rootkey::load_root_key(&config.root_key, &config.data_dir)?;
        let secrets = SecretBox::new(&root_key);
        let store = match &config.database_url {
            Some(url) => Store::open_postgres(url).await?,
            None => Store::open_sqlite(&config.data_dir.join("cloudward.db")).await?,
        };
        let now_ms =
            i64::try_from((clock.now() - time::OffsetDateTime::UNIX_EPOCH).whole_milliseconds())
                .unwrap_or(0);
        let bootstrap =
            ensure_management_account(&store, &secrets, supplied_root_key, now_ms).await?;
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(tls_acceptor(cert, key)?),
            (None, None) => None,
            _ => {
                return Err(ServeError::Config(
                    "TLS needs both a certificate (--tls-cert) and a key (--tls-key)".to_owned(),
                ));
            }
        };
        let mut audit_options = cloudward_audit::AuditOptions::from_env(&config.data_dir)
            .map_err(|err| ServeError::Config(err.to_string()))?;
        audit_options.durability = match config.audit_durability {
            config::AuditDurability::Fsync => cloudward_audit::Durability::Fsync,
            config::AuditDurability::Os => cloudward_audit::Durability::Os,
        };
        audit_options.region = config.region.clone();
        let (audit, audit_writer, _) =
            AuditLog::open(audit_options, clock.clone(), Some(store.clone()))
                .map_err(|err| ServeError::Config(err.to_string()))?;
        let mut registry = Registry::default();
        registry
            .register(&cloudward_iam::actions())
            .map_err(|err| ServeError::Config(err.to_string()))?;
        registry
            .register(&cloudward_audit::actions())
            .map_err(|err| ServeError::Config(err.to_string()))?;
        let listener = TcpListener::bind(config.listen).await.map_err(|err| {
            ServeError::Config(format!("cannot listen on {}: {err}", config.listen))
        })?;
        let iam_policies = Arc::new(
            IamPolicySource::new(store.clone(), config.credential_cache_ttl)
                .map_err(|err| ServeError::Config(err.to_string()))?,
        );
        let app = App {
            limits: Limits {
                max_body_len: config.max_body_bytes,
                ..Limits::default()
            },
            registry,
            authorizer: Authorizer::new(Some(iam_policies.clone())),
            iam_policies,
            authenticator: Authenticator {
                store: store.clone(),
                secrets: secrets.clone(),
                cache: CredentialCache::new(config.credential_cache_ttl),
                nonces: NonceCache::new(config.nonce_capacity),
                window: config.clock_window,
                last_use_written: std::sync::Mutex::new(std::collections::HashMap::new()),
            },
            service: {
                let mut service = ServiceState::new(store, secrets, clock, config.region.clone());
                service.extensions.insert(Arc::new(audit.clone()));
                service
            },
            audit,
            metrics: Metrics::default(),
            signin_limiter: limiter::SigninLimiter::new(config.signin_attempts_per_minute),
            config,
        };
        Ok(Self {
            app: Arc::new(app),
            listener,
            tls,
            audit_writer,
            bootstrap,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests
    /// finish (up to the grace period), flushes the audit log and closes the store.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), ServeError> {
        let Server {
            app,
            listener,
            tls,
            audit_writer,
            ..
        } = self;
        let router = router(app.clone());
        let (stop_jobs, jobs_stopped) = tokio::sync::watch::channel(false);
        let jobs = protection::spawn(app.clone(), jobs_stopped);
        let builder = auto::Builder::new(TokioExecutor::new());
        let graceful = GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, remote) = match accepted {
                        Ok(pair) => pair,
                        Err(err) => {
                            // Running out of file descriptors must not stop the server.
                            tracing::warn!(error = %err, "accept failed");
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let info = ConnInfo { remote, tls: tls.is_some() };
                    let service = router.clone().map_request(move |mut req: http::Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(info);
                        req
                    });
                    let hyper_service = TowerToHyperService::new(service);
                    match &tls {
                        None => {
                            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), hyper_service);
                            let conn = graceful.watch(conn.into_owned());
                            tokio::spawn(async move {
                                if let Err(err) = conn.await {
                                    tracing::debug!(error = %err, "connection ended with error");
                                }
                            });
                        }
                        Some(acceptor) => {
                            let acceptor = acceptor.clone();
                            let builder = builder.clone();
                            let watcher = graceful.watcher();
                            tokio::spawn(async move {
                                let stream = match tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(stream)).await {
                                    Ok(Ok(stream)) => stream,
                                    Ok(Err(err)) => {
                                        tracing::debug!(error = %err, "TLS handshake failed");
                                        return;
                                    }
                                    Err(_) => return,
                                };
                                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), hyper_service);
                                if let Err(err) = watcher.watch(conn.into_owned()).await {
                                    tracing::debug!(error = %err, "connection ended with error");
                                }
                            });
                        }
                    }
                }
                () = &mut shutdown => {
                    tracing::info!("shutdown requested: no longer accepting connections");
                    break;
                }
            }
        }
        drop(listener);
        let grace = app.config.shutdown_grace;
        if tokio::time::timeout(grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                ?grace,
                "in-flight requests did not finish within the grace period"
            );
        }
        // Background jobs hold the `App`: stop them before it is dropped.
        let _ = stop_jobs.send(true);
        for job in jobs {
            let _ = job.await;
        }
        let store = app.service.store.clone();
        // Dropping the last `App` drops the audit sender, so the writer drains and stops.
        drop(router);
        drop(app);
        let joined = tokio::task::spawn_blocking(move || audit_writer.join()).await;
        if joined.is_err() {
            tracing::error!("audit writer did not shut down cleanly");
        }
        store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The HTTP routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/", any(rpc::handle))
        .route("/signin", get(console::page))
        .route("/console/api/signin", post(console::signin_password))
        .route("/console/api/signin/mfa", post(console::signin_mfa))
        .route(
            "/console/api/signin/bind-mfa",
            post(console::signin_bind_mfa),
        )
        .route(
            "/console/api/signin/change-password",
            post(console::signin_change_password),
        )
        .route("/console/api/session", get(console::session))
        .route("/console/api/signout", post(console::signout))
        .route("/console/api/call", post(console::call))
        .with_state(app)
}

async fn healthz(State(app): State<Arc<App>>) -> impl IntoResponse {
    match app.service.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(err) => {
            tracing::error!(error = %err, "health check: store unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n")
        }
    }
}

async fn metrics_text(State(app): State<Arc<App>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
}

fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<tokio_rustls::TlsAcceptor, ServeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|err| {
            ServeError::Config(format!(
                "cannot read TLS certificate {}: {err}",
                cert.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(ServeError::Config(format!(
            "no certificate found in {}",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|err| {
        ServeError::Config(format!("cannot read TLS key {}: {err}", key.display()))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| ServeError::Config(format!("TLS setup failed: {err}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|err| ServeError::Config(format!("TLS certificate/key rejected: {err}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Real clock for production use.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}
