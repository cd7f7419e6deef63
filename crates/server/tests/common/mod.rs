//! In-process server harness: `Server::prepare` + `run` on 127.0.0.1:0 with a temp data dir,
//! requests signed with `cloudward_protocol` and sent with `reqwest`, audit read back with
//! `rusqlite`.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cloudward_iam::bootstrap::SuppliedRootKey;
use cloudward_protocol::{Credentials, V3Request, sign_v2, sign_v2_params, sign_v3};
use cloudward_server::config::{AuditDurability, ServerConfig};
use cloudward_server::{ServeError, Server, system_clock};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The supplied root AccessKey.
pub const ROOT_ID: &str = "LTAI5tTestRootKey0000001";
/// Its secret.
pub const ROOT_SECRET: &str = "TestRootSecretTestRootSecret01";
/// A secret that is not the root's.
pub const WRONG_SECRET: &str = "WrongSecretWrongSecretWrong0";
/// STS version.
pub const STS: &str = "2015-04-01";

/// The root credentials.
pub fn root() -> Credentials {
    Credentials::new(ROOT_ID, ROOT_SECRET)
}

/// A running in-process server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub account_id: String,
    pub generated_root_key: Option<(String, String)>,
    pub http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), ServeError>>>,
    _tmp: Option<tempfile::TempDir>,
}

/// A config for a fresh temp data dir, listening on 127.0.0.1:0.
pub fn config(data_dir: &Path) -> ServerConfig {
    let mut config = ServerConfig::new(data_dir.to_path_buf());
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.audit_durability = AuditDurability::Os;
    config.shutdown_grace = Duration::from_secs(10);
    config
}

fn supplied() -> Option<SuppliedRootKey> {
    Some(SuppliedRootKey {
        access_key_id: ROOT_ID.to_owned(),
        access_key_secret: zeroize::Zeroizing::new(ROOT_SECRET.to_owned()),
    })
}

/// The HTTP client (reqwest is built without a default crypto provider).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A server on a fresh temp dir with the supplied root key.
pub async fn start() -> TestServer {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let mut server = start_with(cfg, true).await.unwrap();
    server._tmp = Some(tmp);
    server
}

/// A server with `config`; `supply` chooses between the supplied and a generated root key.
pub async fn start_with(config: ServerConfig, supply: bool) -> Result<TestServer, ServeError> {
    start_with_clock(config, supply, system_clock()).await
}

/// A server on a fresh temp dir with the supplied root key and the given clock.
pub async fn start_clocked(clock: std::sync::Arc<dyn cloudward_service::Clock>) -> TestServer {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let mut server = start_with_clock(cfg, true, clock).await.unwrap();
    server._tmp = Some(tmp);
    server
}

/// As [`start_with`], with the given clock.
pub async fn start_with_clock(
    config: ServerConfig,
    supply: bool,
    clock: std::sync::Arc<dyn cloudward_service::Clock>,
) -> Result<TestServer, ServeError> {
    let data_dir = config.data_dir.clone();
    let server = Server::prepare(config, if supply { supplied() } else { None }, clock).await?;
    let addr = server.local_addr()?;
    let account_id = server.bootstrap.account_id.clone();
    let generated_root_key = server
        .bootstrap
        .generated_root_key
        .as_ref()
        .map(|(id, secret)| (id.clone(), secret.as_str().to_owned()));
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    Ok(TestServer {
        addr,
        data_dir,
        account_id,
        generated_root_key,
        http: http_client(),
        shutdown: Some(tx),
        handle: Some(handle),
        _tmp: None,
    })
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("body is not JSON ({err}): {}", self.body))
    }

    /// `x-acs-request-id`.
    pub fn request_id_header(&self) -> String {
        self.headers
            .get("x-acs-request-id")
            .unwrap_or_else(|| panic!("no x-acs-request-id header: {self:?}"))
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// `content-type`.
    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    /// Asserts a JSON error envelope with `code` and `status`, whose `RequestId` equals the
    /// header; returns the body.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> Value {
        let body = self.json();
        assert_eq!(
            (self.status, body["Code"].as_str()),
            (status, Some(code)),
            "expected {status} {code}, got: {}",
            self.body
        );
        assert!(
            self.content_type().starts_with("application/json"),
            "content-type {:?}",
            self.content_type()
        );
        assert_eq!(body["RequestId"], self.request_id_header(), "{}", self.body);
        assert!(body["HostId"].is_string(), "no HostId: {}", self.body);
        assert!(
            body["Message"].as_str().is_some_and(|m| !m.is_empty()),
            "no Message: {}",
            self.body
        );
        body
    }

    /// Asserts a 200 JSON answer whose `RequestId` equals the header; returns the body.
    #[track_caller]
    pub fn expect_ok(&self) -> Value {
        assert_eq!(self.status, 200, "expected 200, got: {}", self.body);
        let body = self.json();
        assert_eq!(body["RequestId"], self.request_id_header());
        body
    }
}

impl TestServer {
    /// `http://127.0.0.1:port`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `host` header value.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Sends a request; no answer may ever be a 500.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        assert_ne!(status, 500, "the server answered 500: {body}");
        Reply {
            status,
            headers,
            body,
        }
    }

    /// V2 GET with the parameters in the query string.
    pub async fn v2_get(&self, params: &[(&str, &str)], creds: &Credentials) -> Reply {
        self.v2_get_at(params, creds, &nonce(), OffsetDateTime::now_utc())
            .await
    }

    /// V2 GET with a chosen nonce and timestamp.
    pub async fn v2_get_at(
        &self,
        params: &[(&str, &str)],
        creds: &Credentials,
        nonce: &str,
        at: OffsetDateTime,
    ) -> Reply {
        let query = sign_v2("GET", &map(params), creds, nonce, at);
        self.send(self.http.get(format!("{}/?{query}", self.base())))
            .await
    }

    /// V2 POST with every parameter in an `application/x-www-form-urlencoded` body.
    pub async fn v2_post_form(&self, params: &[(&str, &str)], creds: &Credentials) -> Reply {
        let body = sign_v2(
            "POST",
            &map(params),
            creds,
            &nonce(),
            OffsetDateTime::now_utc(),
        );
        self.send(
            self.http
                .post(format!("{}/", self.base()))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await
    }

    /// V2 signed parameters, for tests that build the request themselves.
    pub fn v2_params(&self, method: &str, params: &[(&str, &str)]) -> BTreeMap<String, String> {
        sign_v2_params(
            method,
            &map(params),
            &root(),
            &nonce(),
            OffsetDateTime::now_utc(),
        )
    }

    /// V3 POST (query parameters, empty body) as the tea SDK sends it.
    pub async fn v3(
        &self,
        action: &str,
        version: &str,
        query: &[(&str, &str)],
        creds: &Credentials,
    ) -> Reply {
        self.v3_at(
            action,
            version,
            query,
            creds,
            &nonce(),
            OffsetDateTime::now_utc(),
        )
        .await
    }

    /// V3 POST with a chosen nonce and date.
    pub async fn v3_at(
        &self,
        action: &str,
        version: &str,
        query: &[(&str, &str)],
        creds: &Credentials,
        nonce: &str,
        at: OffsetDateTime,
    ) -> Reply {
        let (url, headers, body) =
            self.v3_signed(action, version, query, b"", None, creds, nonce, at);
        self.send(with_headers(self.http.post(url), &headers).body(body))
            .await
    }

    /// A V3-signed request: URL, headers (without `host`), body.
    #[allow(clippy::too_many_arguments)]
    pub fn v3_signed(
        &self,
        action: &str,
        version: &str,
        query: &[(&str, &str)],
        body: &[u8],
        content_type: Option<&str>,
        creds: &Credentials,
        nonce: &str,
        at: OffsetDateTime,
    ) -> (String, Vec<(String, String)>, Vec<u8>) {
        let query = map(query);
        let host = self.host();
        let extra = vec![("accept".to_owned(), "application/json".to_owned())];
        let signed = sign_v3(
            &V3Request {
                method: "POST",
                host: &host,
                action,
                version,
                query: &query,
                body,
                content_type,
                extra_headers: &extra,
            },
            creds,
            nonce,
            at,
        );
        let url = if signed.query.is_empty() {
            format!("{}/", self.base())
        } else {
            format!("{}/?{}", self.base(), signed.query)
        };
        let headers = signed
            .headers
            .into_iter()
            .filter(|(k, _)| k != "host")
            .collect();
        (url, headers, body.to_vec())
    }

    /// GET a plain path (`/healthz`, `/metrics`).
    pub async fn get_path(&self, path: &str) -> Reply {
        self.send(self.http.get(format!("{}{path}", self.base())))
            .await
    }

    /// Resolves the shutdown future and waits for `run` to return.
    pub async fn stop(mut self) -> Result<(), ServeError> {
        self.trigger_shutdown();
        self.join().await
    }

    /// Resolves the shutdown future without waiting.
    pub fn trigger_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Waits for `run` to return.
    pub async fn join(&mut self) -> Result<(), ServeError> {
        let handle = self.handle.take().expect("already joined");
        tokio::time::timeout(Duration::from_secs(30), handle)
            .await
            .expect("run did not return within 30 s after shutdown")
            .expect("run panicked")
    }

    /// Keeps the temp dir alive past `stop` (for restarts and reading the audit log).
    pub fn take_tmp(&mut self) -> Option<tempfile::TempDir> {
        self._tmp.take()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.trigger_shutdown();
    }
}

/// Adds headers to a request.
pub fn with_headers(
    mut request: reqwest::RequestBuilder,
    headers: &[(String, String)],
) -> reqwest::RequestBuilder {
    for (k, v) in headers {
        request = request.header(k.as_str(), v.as_str());
    }
    request
}

/// A fresh nonce.
pub fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `GetCallerIdentity` V2 parameters.
pub fn gci() -> Vec<(&'static str, &'static str)> {
    vec![("Action", "GetCallerIdentity"), ("Version", STS)]
}

/// Parameters as a map.
pub fn map(params: &[(&str, &str)]) -> BTreeMap<String, String> {
    params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Every audit event in log order: (`event_name` column, canonical event parsed, raw json).
pub fn audit_events(data_dir: &Path) -> Vec<(String, Value, String)> {
    let conn = rusqlite::Connection::open(data_dir.join("audit.db")).unwrap();
    // Events are stored in blocks (docs/audit.md, "Storage").
    cloudward_audit::blocks::read_events(&conn, 0, u64::MAX)
        .unwrap()
        .into_iter()
        .map(|(_, bytes)| {
            let raw = String::from_utf8(bytes).unwrap();
            let value: Value = serde_json::from_str(&raw).unwrap();
            let name = value["eventName"].as_str().unwrap().to_owned();
            (name, value, raw)
        })
        .collect()
}

/// Every byte of the audit database files, for "the secret is nowhere" checks.
pub fn audit_bytes(data_dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["audit.db", "audit.db-wal"] {
        if let Ok(bytes) = std::fs::read(data_dir.join(name)) {
            all.extend(bytes);
        }
    }
    all
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}
