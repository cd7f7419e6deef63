//! The RPC endpoint: every call goes through [`handle`], which authenticates, routes,
//! authorizes, runs the handler, records the audit event and renders the answer.
//!
//! Everything after authentication is shared with console calls (`crate::console`):
//! [`dispatch`] (route → authorize → handler) and [`respond`] (render → exactly one
//! durable audit event → response), so a call made from a console session is decided,
//! run and audited exactly like a signed one.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cloudward_protocol::{
    ApiError, IncomingRequest, ProtocolError, ResponseFormat, SignedRequest, parse_request,
    product_for_version, render_error, render_success, request_hints,
};
use cloudward_service::{ActionSpec, Authenticated, Call, Lookup, ReadWrite, RequestContext};
use serde_json::Value;

use crate::App;
use crate::auth::PartialIdentity;

/// Facts about the TCP/TLS connection a request came over.
#[derive(Clone, Copy, Debug)]
pub struct ConnInfo {
    /// Peer address.
    pub remote: SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
}

/// What one call produced, gathered for the response and the audit event.
pub(crate) struct Outcome {
    pub(crate) result: Result<Value, ApiError>,
    pub(crate) format: ResponseFormat,
    pub(crate) version: Option<String>,
    pub(crate) action: Option<String>,
    pub(crate) spec: Option<ActionSpec>,
    pub(crate) caller: Option<Authenticated>,
    pub(crate) partial: PartialIdentity,
    pub(crate) params: Option<cloudward_service::Params>,
}

impl Outcome {
    /// Nothing known yet (JSON answer).
    pub(crate) fn empty() -> Self {
        Self {
            result: Ok(Value::Null),
            format: ResponseFormat::Json,
            version: None,
            action: None,
            spec: None,
            caller: None,
            partial: PartialIdentity::default(),
            params: None,
        }
    }
}

/// Axum handler for `/`.
pub async fn handle(
    State(app): State<Arc<App>>,
    axum::Extension(conn): axum::Extension<ConnInfo>,
    request: Request,
) -> Response {
    let started = Instant::now();
    app.metrics.in_flight(1);
    let received_at = app.service.clock.now();
    let request_id = uuid::Uuid::new_v4().to_string().to_ascii_uppercase();
    let (parts, body) = request.into_parts();
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(256)
        .collect::<String>();
    let context = RequestContext {
        request_id: request_id.clone(),
        source_ip: conn.remote.ip(),
        secure_transport: conn.tls,
        received_at,
        user_agent,
        mfa_present: false,
    };

    let outcome = process(&app, &parts, body, context.clone()).await;
    let response = respond(&app, outcome, &context, started).await;
    app.metrics.in_flight(-1);
    response
}

/// Renders the answer of a call, records its one audit event — durable before the
/// response is returned; if recording fails the call fails — and observes metrics.
pub(crate) async fn respond(
    app: &App,
    outcome: Outcome,
    context: &RequestContext,
    started: Instant,
) -> Response {
    let request_id = context.request_id.clone();
    let known_action = outcome.spec.map(|s| s.name).unwrap_or("unknown");
    let (status, content_type, bytes, code) = match &outcome.result {
        Ok(value) => {
            let (ct, bytes) = render_success(
                outcome.action.as_deref().unwrap_or(""),
                &request_id,
                value.clone(),
                outcome.format,
            );
            (StatusCode::OK, ct, bytes, "OK".to_owned())
        }
        Err(err) => {
            let product = outcome.version.as_deref().and_then(product_for_version);
            let (ct, bytes) = render_error(
                err,
                &request_id,
                &app.config.host_id,
                product,
                outcome.format,
            );
            let status =
                StatusCode::from_u16(err.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, ct, bytes, err.code.clone())
        }
    };

    // Invariant: exactly one durable audit event per call, before the response leaves.
    let recorded = match audit_event(app, &outcome, context) {
        Ok(event) => {
            app.audit
                .record(
                    event,
                    cloudward_audit::event::declared_secrets(outcome.spec.as_ref()),
                )
                .await
        }
        Err(err) => Err(err),
    };
    let (status, content_type, bytes, code) = match recorded {
        Ok(_) => {
            app.metrics.audit_event();
            (status, content_type, bytes, code)
        }
        Err(err) => {
            tracing::error!(error = %err, request_id = %request_id, "audit event not recorded; failing the call");
            let (ct, bytes) = render_error(
                &ApiError::internal(),
                &request_id,
                &app.config.host_id,
                None,
                outcome.format,
            );
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                ct,
                bytes,
                "InternalError".to_owned(),
            )
        }
    };

    app.metrics.observe(known_action, &code, started.elapsed());
    tracing::debug!(request_id = %request_id, action = known_action, code = %code, "rpc call");
    let mut response = (status, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-acs-request-id", value);
    }
    response
}

async fn process(
    app: &App,
    parts: &axum::http::request::Parts,
    body: Body,
    context: RequestContext,
) -> Outcome {
    let mut header_pairs: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    // HTTP/2 carries the host as `:authority`, not as a header; V3 signs it as `host`.
    if !parts.headers.contains_key(axum::http::header::HOST)
        && let Some(authority) = parts.uri.authority()
    {
        header_pairs.push(("host".to_owned(), authority.as_str().to_owned()));
    }
    let query = parts.uri.query().unwrap_or("");
    let mut outcome = Outcome::empty();
    let body_bytes = match axum::body::to_bytes(body, app.config.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => {
            outcome.result = Err(ProtocolError::RequestTooLarge {
                location: cloudward_protocol::ParamSource::Body,
                limit: app.config.max_body_bytes,
            }
            .into());
            return outcome;
        }
    };
    let incoming = IncomingRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query,
        headers: &header_pairs,
        body: &body_bytes,
    };
    let hints = request_hints(&incoming);
    outcome.format = hints.format;
    outcome.version = hints.version.clone();
    outcome.action = hints.action.clone();
    outcome.partial.access_key_id = hints.access_key_id.clone();

    if parts.method != Method::GET && parts.method != Method::POST {
        outcome.result = Err(ApiError::new(
            "UnsupportedHTTPMethod",
            405,
            "The RPC endpoint accepts only GET and POST.",
        ));
        return outcome;
    }
    let signed: SignedRequest = match parse_request(&incoming, &app.limits) {
        Ok(signed) => signed,
        Err(err) => {
            outcome.result = Err(err.into());
            return outcome;
        }
    };
    outcome.format = signed.format;
    outcome.version = Some(signed.version.clone());
    outcome.action = Some(signed.action.clone());

    let caller = match app.authenticator.authenticate(&signed, context).await {
        Ok(caller) => caller,
        Err((err, partial)) => {
            outcome.partial = partial;
            outcome.result = Err(err);
            return outcome;
        }
    };
    dispatch(
        app,
        caller,
        &signed.version,
        &signed.action,
        signed.params,
        &mut outcome,
    )
    .await;
    outcome
}

/// The pipeline after authentication, shared by signed RPC calls and console calls:
/// route by `(version, action)`, authorize `caller`, run the handler, and drop caches
/// after a successful write. Fills `outcome` for [`respond`].
pub(crate) async fn dispatch(
    app: &App,
    caller: Authenticated,
    version: &str,
    action: &str,
    params: cloudward_service::Params,
    outcome: &mut Outcome,
) {
    outcome.version = Some(version.to_owned());
    outcome.action = Some(action.to_owned());
    outcome.params = Some(params);
    let spec = match app.registry.lookup(version, action) {
        Lookup::Found(spec) => *spec,
        Lookup::UnknownVersion => {
            outcome.caller = Some(caller);
            outcome.result = Err(ProtocolError::InvalidVersion.into());
            return;
        }
        Lookup::UnknownAction => {
            outcome.caller = Some(caller);
            outcome.result = Err(ProtocolError::ActionNotFound.into());
            return;
        }
    };
    outcome.spec = Some(spec);
    outcome.caller = Some(caller.clone());
    let Some(params) = outcome.params.as_ref() else {
        return;
    };
    // Invariant: the handler runs only with an `Authorized` value from the authorizer.
    let authorized = match app.authorizer.authorize(caller, &spec, params).await {
        Ok(authorized) => authorized,
        Err(err) => {
            outcome.result = Err(err);
            return;
        }
    };
    let call = Call {
        state: &app.service,
        auth: &authorized,
        params,
    };
    outcome.result = (spec.handler)(call).await;
    if outcome.result.is_ok() && spec.rw == ReadWrite::Write {
        // Any change to identities, policies, attachments, roles or the directory may
        // change decisions or credentials: drop compiled policy sets and cached keys
        // (cheap to rebuild, writes are rare).
        app.iam_policies.invalidate();
        app.authenticator.cache.clear();
    }
}

/// Builds the ActionTrail event for one call; [`cloudward_audit::AuditLog::record`]
/// redacts it (trail registry plus the action's declared secret fields) before storing.
fn audit_event(
    app: &App,
    outcome: &Outcome,
    context: &RequestContext,
) -> Result<cloudward_trail::ActionTrailEvent, cloudward_audit::AuditError> {
    let facts = cloudward_audit::CallFacts {
        spec: outcome.spec.as_ref(),
        version: outcome.version.as_deref(),
        action: outcome.action.as_deref(),
        product: outcome.version.as_deref().and_then(product_for_version),
        caller: outcome.caller.as_ref().map(Authenticated::principal),
        claimed_account: outcome.partial.account_id.as_deref(),
        claimed_access_key_id: outcome.partial.access_key_id.as_deref(),
        params: outcome.params.as_ref(),
        result: outcome.result.as_ref(),
        context,
        region: &app.service.region,
    };
    Ok(cloudward_audit::build_event(&facts)?)
}
