//! Background jobs of credential protection: the scheduled idle-credential sweep and the
//! delivery of security notifications to account contacts' webhooks.
//!
//! Both jobs act as the platform, not as a caller: the sweep records one ActionTrail event
//! (`userIdentity.type` = `system`, `eventType` = `AliyunServiceEvent`) per account where it
//! disabled something, so an auditor sees every automatic change beside the API calls.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use cloudward_iam::protect::contacts::{self, WebhookSender};
use cloudward_iam::protect::idle;
use cloudward_trail::ActionTrailEvent;
use cloudward_trail::event::{
    EVENT_VERSION, EventCategory, EventRw, EventTime, EventType, IdentityType, UserIdentity,
};
use serde_json::{Map, Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::App;

/// Sends webhooks with reqwest: no redirects (a webhook answers where it was told to),
/// no proxy, a short timeout, and nothing of the response kept beyond its status.
///
/// Webhook URLs are chosen by tenant administrators, so by default they may only reach
/// public addresses: a name that resolves to loopback, private, link-local (cloud metadata
/// at 169.254.169.254), shared or unique-local space is refused, checked on the addresses
/// actually connected to (a resolver that filters them), so DNS rebinding cannot slip past.
pub struct HttpWebhookSender {
    client: reqwest::Client,
    allow_private: bool,
}

/// Whether `ip` is an address a tenant's webhook may reach.
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80) // link local
        }
    }
}

/// Resolves webhook host names and keeps only public addresses.
struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public_address(a.ip()))
                .collect();
            if found.is_empty() {
                return Err("the webhook host has no public address".into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

impl HttpWebhookSender {
    /// A sender with a 10-second timeout; `allow_private` lifts the public-address rule
    /// (an operator's choice, e.g. for an in-house receiver).
    pub fn new(allow_private: bool) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("cloudward-notifier/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
        }
        Ok(Self {
            client: builder.build()?,
            allow_private,
        })
    }
}

impl WebhookSender for HttpWebhookSender {
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            // An address literal bypasses the resolver: check it here.
            if !self.allow_private
                && let Ok(parsed) = reqwest::Url::parse(url)
            {
                let literal = parsed.host_str().and_then(|h| {
                    h.trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<IpAddr>()
                        .ok()
                });
                if literal.is_some_and(|ip| !is_public_address(ip)) {
                    return Err("address not allowed (not public)".to_owned());
                }
            }
            let mut request = self.client.post(url).body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => Ok(()),
                Ok(response) => Err(format!("HTTP {}", response.status().as_u16())),
                Err(err) if err.is_timeout() => Err("timeout".to_owned()),
                Err(err) if err.is_connect() => Err(if self.allow_private {
                    "connection failed".to_owned()
                } else {
                    "connection failed (or the host has no public address)".to_owned()
                }),
                Err(_) => Err("request failed".to_owned()),
            }
        })
    }
}

fn now_ms(app: &App) -> i64 {
    i64::try_from((app.service.clock.now() - time::OffsetDateTime::UNIX_EPOCH).whole_milliseconds())
        .unwrap_or(i64::MAX)
}

/// Starts the jobs; they stop when `stop` changes.
pub fn spawn(app: Arc<App>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    if !app.config.idle_sweep_interval.is_zero() {
        handles.push(tokio::spawn(idle_sweep_loop(app.clone(), stop.clone())));
    }
    handles.push(tokio::spawn(notification_loop(app, stop)));
    handles
}

async fn idle_sweep_loop(app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(app.config.idle_sweep_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if let Err(err) = sweep_all_accounts(&app).await {
                    tracing::warn!(error = %err.code, "idle-credential sweep failed; retrying at the next interval");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Runs the idle sweep over every account once (also used by tests).
pub async fn sweep_all_accounts(app: &App) -> Result<usize, cloudward_protocol::ApiError> {
    let store = &app.service.store;
    let accounts = store
        .list_account_ids()
        .await
        .map_err(cloudward_iam::util::store_error)?;
    let mut disabled = 0;
    for account_id in accounts {
        let now = now_ms(app);
        let report = idle::sweep_account(store, &account_id, now, true).await?;
        let count = report.disabled_count();
        if count == 0 {
            continue;
        }
        disabled += count;
        // Disabled keys must stop authenticating now, not when the caches expire.
        app.authenticator.cache.clear();
        app.iam_policies.invalidate();
        let body = report.to_json();
        record_system_event(app, &account_id, body.clone())
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "audit event of the idle sweep not recorded");
                cloudward_protocol::ApiError::internal()
            })?;
        contacts::enqueue(
            store,
            &account_id,
            "IdleCredentialsDisabled",
            body,
            None,
            now,
        )
        .await?;
        tracing::info!(account_id = %account_id, disabled = count, "idle credentials disabled");
    }
    Ok(disabled)
}

async fn record_system_event(
    app: &App,
    account_id: &str,
    report: Value,
) -> Result<u64, cloudward_audit::AuditError> {
    let now = app.service.clock.now();
    let mut params = Map::new();
    params.insert("DryRun".to_owned(), Value::from("false"));
    params.insert("Trigger".to_owned(), Value::from("schedule"));
    let event = ActionTrailEvent {
        event_id: uuid::Uuid::now_v7().to_string(),
        event_version: EVENT_VERSION,
        event_name: "DisableIdleCredentials".to_owned(),
        event_source: cloudward_iam::ram::EVENT_SOURCE.to_owned(),
        event_type: EventType::AliyunServiceEvent,
        event_category: EventCategory::Management,
        event_rw: EventRw::Write,
        event_time: EventTime::from_datetime(now)
            .map_err(|e| cloudward_audit::AuditError::Event(e.to_string()))?,
        acs_region: app.service.region.clone(),
        request_id: uuid::Uuid::new_v4().to_string().to_ascii_uppercase(),
        api_version: cloudward_iam::ram::VERSION.to_owned(),
        service_name: cloudward_iam::ram::PRODUCT.to_owned(),
        source_ip_address: String::new(),
        vpc_id: None,
        user_agent: "cloudward-idle-sweep".to_owned(),
        user_identity: UserIdentity {
            kind: IdentityType::System,
            principal_id: Some("cloudward".to_owned()),
            account_id: Some(account_id.to_owned()),
            access_key_id: None,
            user_name: Some("cloudward-idle-sweep".to_owned()),
            session_context: None,
        },
        request_parameters: params,
        response_elements: Some(json!({ "IdleCredentialReport": report })),
        referenced_resources: None,
        error_code: None,
        error_message: None,
        additional_event_data: None,
        recipient_account_id: Some(account_id.to_owned()),
    };
    app.audit.record(event, &[]).await
}

async fn notification_loop(app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let sender = match HttpWebhookSender::new(app.config.webhook_allow_private_addresses) {
        Ok(sender) => sender,
        Err(err) => {
            tracing::error!(error = %err, "cannot build the webhook client; security notifications stay queued");
            return;
        }
    };
    let mut ticker = tokio::time::interval(app.config.notification_poll_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let now = now_ms(&app);
                match contacts::deliver_due(&app.service.store, &app.service.secrets, &sender, now).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(delivered = n, "security notifications delivered"),
                    Err(err) => tracing::warn!(error = %err.code, "security notification delivery failed; will retry"),
                }
            }
            _ = stop.changed() => return,
        }
    }
}
