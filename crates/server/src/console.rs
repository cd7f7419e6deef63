//! Console sign-in over HTTP, on the same listener as the RPC endpoint: the sign-in page
//! (`GET /signin`), the sign-in steps and the session API under `/console/api/`, and
//! `POST /console/api/call`, which runs an API action as the signed-in user through the
//! same pipeline as signed RPC calls (`rpc::dispatch` + `rpc::respond`).
//!
//! The logic of each step lives in `cloudward_iam::ram::signin`; this module reads the
//! request, sets the cookie, and records **exactly one `ConsoleSignin` audit event per
//! sign-in step** (success or failure), durable before the response is sent.
//!
//! Session cookie: `cloudward_console=<token>; Path=/console; HttpOnly; SameSite=Strict`
//! (`; Secure` over TLS), `Max-Age` = the session's remaining life. State-changing calls
//! (`signout`, `call`) need the session's CSRF token in `X-CSRF-Token`; every POST needs
//! `Content-Type: application/json`, which a cross-site HTML form cannot send.

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cloudward_iam::ram::signin::{
    self, Attempt, Client, ConsoleSubject, IssuedSession, Next, Stage,
};
use cloudward_protocol::ApiError;
use cloudward_service::{Authenticated, Params, RequestContext};
use cloudward_trail::ActionTrailEvent;
use cloudward_trail::event::{EventRw, EventType};
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::App;
use crate::rpc::{self, ConnInfo, Outcome};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "cloudward_console";
/// Header carrying the CSRF token on state-changing calls.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// ActionTrail `eventSource` of sign-in events (Alibaba Cloud's sign-in host).
pub const SIGNIN_EVENT_SOURCE: &str = "signin.aliyun.com";
/// ActionTrail `serviceName` of RAM-user sign-in events (as Alibaba Cloud records them).
pub const SIGNIN_SERVICE_NAME: &str = "AasSub";
/// Largest JSON body accepted by the console API.
const MAX_CONSOLE_BODY: usize = 64 * 1024;

/// Facts of one console request.
struct Req {
    started: Instant,
    context: RequestContext,
    tls: bool,
    headers: HeaderMap,
    body: Result<Bytes, ApiError>,
}

async fn read(app: &App, conn: ConnInfo, request: Request) -> Req {
    let started = Instant::now();
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
        request_id: uuid::Uuid::new_v4().to_string().to_ascii_uppercase(),
        source_ip: conn.remote.ip(),
        secure_transport: conn.tls,
        received_at: app.service.clock.now(),
        user_agent,
        mfa_present: false,
    };
    let body = axum::body::to_bytes(body, MAX_CONSOLE_BODY)
        .await
        .map_err(|_| {
            ApiError::new(
                "RequestTooLarge",
                413,
                "The request body is larger than the console API accepts.",
            )
        });
    Req {
        started,
        context,
        tls: conn.tls,
        headers: parts.headers,
        body,
    }
}

impl Req {
    fn client(&self) -> Client {
        Client {
            source_ip: self.context.source_ip,
            user_agent: self.context.user_agent.clone(),
        }
    }

    /// The JSON object body of a POST (`Content-Type: application/json` required).
    fn json(&self) -> Result<Map<String, Value>, ApiError> {
        let is_json = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::new(
                "UnsupportedMediaType",
                415,
                "The console API accepts only Content-Type: application/json.",
            ));
        }
        let body = self.body.as_ref().map_err(Clone::clone)?;
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(ApiError::new(
                "InvalidParameter",
                400,
                "The request body must be a JSON object.",
            )),
        }
    }

    fn cookie_token(&self) -> Option<Zeroizing<String>> {
        self.headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == SESSION_COOKIE)
            .map(|(_, value)| Zeroizing::new(value.to_owned()))
            .filter(|t| !t.is_empty() && t.len() <= 128)
    }

    fn csrf_header(&self) -> Option<&str> {
        self.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())
    }
}

fn string_field<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    match body.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None => Err(ApiError::new(
            "MissingParameter",
            400,
            format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
        )),
        Some(_) => Err(ApiError::new(
            "InvalidParameter",
            400,
            format!("The parameter {name} must be a string."),
        )),
    }
}

/// A JSON answer with the console's security headers.
fn json_response(status: StatusCode, body: &Value, request_id: &str) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    no_store(headers);
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-acs-request-id", value);
    }
    response
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
}

fn error_body(app: &App, err: &ApiError, request_id: &str) -> Value {
    json!({
        "RequestId": request_id,
        "HostId": app.config.host_id,
        "Code": err.code,
        "Message": err.message,
    })
}

fn error_response(app: &App, err: &ApiError, request_id: &str) -> Response {
    let status = StatusCode::from_u16(err.http_status).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, &error_body(app, err, request_id), request_id)
}

fn session_cookie(token: &str, max_age_s: i64, tls: bool) -> Option<HeaderValue> {
    let secure = if tls { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}"
    ))
    .ok()
}

// ---------------------------------------------------------------------------------------
// Sign-in steps.

/// Which step a POST is.
#[derive(Clone, Copy)]
enum Step {
    Password,
    Mfa,
    BindMfa,
    ChangePassword,
}

async fn run_step(app: &App, req: &Req, step: Step) -> Attempt {
    // Before anything costly (the password hash): one address, a bounded rate.
    if !app
        .signin_limiter
        .allow(req.context.source_ip, std::time::Instant::now())
    {
        return Attempt {
            facts: signin::AttemptFacts {
                step: step_name(step),
                ..Default::default()
            },
            result: Err(ApiError::new(
                "Throttling.Signin",
                429,
                "Too many sign-in attempts from this address; wait a minute and try again.",
            )),
            retry_ticket: None,
        };
    }
    let client = req.client();
    let body = match req.json() {
        Ok(body) => body,
        Err(err) => {
            return Attempt {
                facts: signin::AttemptFacts {
                    step: step_name(step),
                    ..Default::default()
                },
                result: Err(err),
                retry_ticket: None,
            };
        }
    };
    let state = &app.service;
    let result: Result<Attempt, ApiError> = async {
        let field = |name: &str| string_field(&body, name);
        Ok(match step {
            Step::Password => {
                let (login, password) = (field("LoginAccount")?, field("Password")?);
                signin::sign_in_password(state, login, password, &client).await
            }
            Step::Mfa => {
                let (ticket, code) = (field("Ticket")?, field("AuthenticationCode")?);
                signin::sign_in_mfa(state, ticket, code, &client).await
            }
            Step::BindMfa => {
                let ticket = field("Ticket")?;
                let (code1, code2) = (field("AuthenticationCode1")?, field("AuthenticationCode2")?);
                signin::sign_in_bind_mfa(state, ticket, code1, code2, &client).await
            }
            Step::ChangePassword => {
                let (ticket, password) = (field("Ticket")?, field("NewPassword")?);
                signin::sign_in_change_password(state, ticket, password, &client).await
            }
        })
    }
    .await;
    result.unwrap_or_else(|err| Attempt {
        facts: signin::AttemptFacts {
            step: step_name(step),
            login_account: body
                .get("LoginAccount")
                .and_then(Value::as_str)
                .unwrap_or("")
                .chars()
                .take(128)
                .collect(),
            ..Default::default()
        },
        result: Err(err),
        retry_ticket: None,
    })
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::Password => "Password",
        Step::Mfa => Stage::Mfa.as_str(),
        Step::BindMfa => Stage::BindMfa.as_str(),
        Step::ChangePassword => Stage::ChangePassword.as_str(),
    }
}

/// The `ConsoleSignin` event of one step. Built with the shared event builder (so the
/// identity, time, region and error fields follow the same rules as API calls), then
/// turned into a sign-in event. No request parameters are included: the step's inputs are
/// secrets, except the account name, which goes to `additionalEventData.loginAccount`.
fn signin_event(
    app: &App,
    attempt: &Attempt,
    context: &RequestContext,
) -> Result<ActionTrailEvent, cloudward_audit::AuditError> {
    let facts = &attempt.facts;
    let principal = match (&facts.account_id, &facts.user) {
        (Some(account_id), Some((user_id, user_name))) => Some(cloudward_service::Principal {
            account_id: account_id.clone(),
            kind: cloudward_service::PrincipalKind::User {
                user_id: user_id.clone(),
                user_name: user_name.clone(),
            },
            access_key_id: String::new(),
        }),
        _ => None,
    };
    let mut response = Map::new();
    let ok_value;
    let result = match &attempt.result {
        Ok(next) => {
            response.insert("ConsoleSignin".to_owned(), json!("Success"));
            match next {
                Next::Step { stage, .. } => {
                    response.insert("NextStep".to_owned(), json!(stage.as_str()));
                }
                Next::Session(session) => {
                    response.insert("SessionId".to_owned(), json!(session.record.session_id));
                }
            }
            ok_value = Value::Object(response);
            Ok(&ok_value)
        }
        Err(err) => Err(err),
    };
    let call = cloudward_audit::CallFacts {
        spec: None,
        version: None,
        action: Some("ConsoleSignin"),
        product: Some(SIGNIN_SERVICE_NAME),
        caller: principal.as_ref(),
        claimed_account: facts.account_id.as_deref(),
        claimed_access_key_id: None,
        params: None,
        result,
        context: &RequestContext {
            mfa_present: facts.mfa_checked,
            ..context.clone()
        },
        region: &app.service.region,
    };
    let mut event = cloudward_audit::build_event(&call)?;
    event.event_type = EventType::ConsoleSignin;
    event.event_name = "ConsoleSignin".to_owned();
    event.event_source = SIGNIN_EVENT_SOURCE.to_owned();
    event.service_name = SIGNIN_SERVICE_NAME.to_owned();
    event.event_rw = EventRw::Write;
    if let Ok(value) = result {
        event.response_elements = Some(value.clone());
    }
    event.user_identity.access_key_id = None;
    let mut additional = event.additional_event_data.take().unwrap_or_default();
    additional.insert("loginAccount".to_owned(), json!(facts.login_account));
    additional.insert(
        "isMFAChecked".to_owned(),
        json!(if facts.mfa_checked { "true" } else { "false" }),
    );
    additional.insert("signinStep".to_owned(), json!(facts.step));
    if let Some((_, user_name)) = &facts.user {
        let mut refs = std::collections::BTreeMap::new();
        refs.insert("ACS::RAM::User".to_owned(), vec![user_name.clone()]);
        event.referenced_resources = Some(refs);
    }
    event.additional_event_data = Some(additional);
    Ok(event)
}

/// `POST /console/api/signin` and the later steps.
async fn signin_step(app: Arc<App>, conn: ConnInfo, request: Request, step: Step) -> Response {
    app.metrics.in_flight(1);
    let req = read(&app, conn, request).await;
    let attempt = run_step(&app, &req, step).await;
    let request_id = req.context.request_id.clone();
    // Invariant: one durable ConsoleSignin event per step, before the response leaves.
    let recorded = match signin_event(&app, &attempt, &req.context) {
        Ok(event) => {
            app.audit
                .record(event, cloudward_iam::ram::SIGNIN_SECRETS)
                .await
        }
        Err(err) => Err(err),
    };
    let code = match &attempt.result {
        Ok(_) => "OK".to_owned(),
        Err(err) => err.code.clone(),
    };
    let response = match recorded {
        Err(err) => {
            tracing::error!(error = %err, request_id = %request_id, "sign-in audit event not recorded; failing the step");
            error_response(&app, &ApiError::internal(), &request_id)
        }
        Ok(_) => {
            app.metrics.audit_event();
            step_response(&app, attempt, &request_id, req.tls)
        }
    };
    app.metrics
        .observe("ConsoleSignin", &code, req.started.elapsed());
    app.metrics.in_flight(-1);
    response
}

fn step_response(app: &App, attempt: Attempt, request_id: &str, tls: bool) -> Response {
    match attempt.result {
        Err(err) => {
            let mut body = error_body(app, &err, request_id);
            if let (Some(ticket), Some(map)) = (&attempt.retry_ticket, body.as_object_mut()) {
                map.insert("Ticket".to_owned(), json!(ticket.as_str()));
            }
            let status = StatusCode::from_u16(err.http_status).unwrap_or(StatusCode::BAD_REQUEST);
            json_response(status, &body, request_id)
        }
        Ok(Next::Step {
            stage,
            ticket,
            expires_at_ms,
            bind,
        }) => {
            let mut body = json!({
                "RequestId": request_id,
                "NextStep": stage.as_str(),
                "Ticket": ticket.as_str(),
                "TicketExpireTime": cloudward_iam::util::iso8601(expires_at_ms),
            });
            if let (Some(bind), Some(map)) = (bind, body.as_object_mut()) {
                map.insert(
                    "VirtualMFADevice".to_owned(),
                    json!({
                        "SerialNumber": bind.serial_number,
                        "Base32StringSeed": bind.base32_seed.as_str(),
                        "OTPAuthURI": bind.otpauth_uri.as_str(),
                    }),
                );
            }
            json_response(StatusCode::OK, &body, request_id)
        }
        Ok(Next::Session(session)) => {
            let IssuedSession {
                token,
                csrf_token,
                record,
                user_name,
            } = *session;
            let body = json!({
                "RequestId": request_id,
                "NextStep": "Done",
                "Session": session_json(&record, &user_name),
                "CsrfToken": csrf_token,
            });
            let mut response = json_response(StatusCode::OK, &body, request_id);
            let remaining = (record.expires_at_ms - record.created_at_ms).div_euclid(1000);
            if let Some(cookie) = session_cookie(&token, remaining, tls) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
    }
}

fn session_json(record: &cloudward_store::ConsoleSessionRecord, user_name: &str) -> Value {
    json!({
        "SessionId": record.session_id,
        "AccountId": record.account_id,
        "UserId": record.user_id,
        "UserName": user_name,
        "LoginAccount": format!("{user_name}@{}", record.account_id),
        "MFAPresent": record.mfa_present,
        "CreateDate": cloudward_iam::util::iso8601(record.created_at_ms),
        "ExpireDate": cloudward_iam::util::iso8601(record.expires_at_ms),
    })
}

/// `POST /console/api/signin`: `{"LoginAccount", "Password"}`.
pub async fn signin_password(
    State(app): State<Arc<App>>,
    axum::Extension(conn): axum::Extension<ConnInfo>,
    request: Request,
) -> Response {
    signin_step(app, conn, request, Step::Password).await
}

/// `POST /console/api/signin/mfa`: `{"Ticket", "AuthenticationCode"}`.
pub async fn signin_mfa(
    State(app): State<Arc<App>>,
    axum::Extension(conn): axum::Extension<ConnInfo>,
    request: Request,
) -> Response {
    signin_step(app, conn, request, Step::Mfa).await
}

/// `POST /console/api/signin/bind-mfa`: `{"Ticket", "AuthenticationCode1", "AuthenticationCode2"}`.
pub async fn signin_bind_mfa(
    State(app): State<Arc<App>>,
    axum::Extension(conn): axum::Extension<ConnInfo>,
    request: Request,
) -> Response {
    signin_step(app, conn, request, Step::BindMfa).await
}

/// `POST /console/api/signin/change-password`: `{"Ticket", "NewPassword"}`.
pub async fn signin_change_password(
    State(app): State<Arc<App>>,
    axum::Extension(conn): axum::Extension<ConnInfo>,
    request: Request,
) -> Response {
    signin_step(app, conn, request, Step::ChangePassword).await
}

// ---------------------------------------------------------------------------------------
// Session API.

fn not_signed_in() -> ApiError {
    ApiError::new(
        "Console.NotSignedIn",
        401,
        "There is no valid console session: sign in first.",
    )
}

fn bad_csrf() -> ApiError {
    ApiError::new(
        "Console.InvalidCsrfToken",
        403,
        "The X-CSRF-Token header is missing or does not match the session.",
    )
}

/// The live session of the request's cookie, with its token.
async fn current_session(
    app: &App,
    req: &Req,
) -> Result<(Zeroizing<String>, ConsoleSubject), ApiError> {
    let token = req.cookie_token().ok_or_else(not_signed_in)?;
    let subject = signin::session_for_token(&app.service, &token)
        .await?
        .ok_or_else(not_signed_in)?;
    Ok((token, subject))
}

fn check_csrf(req: &Req, token: &str) -> Result<(), ApiError> {
    match req.csrf_header() {
        Some(presented) if signin::csrf_matches(token, presented) => Ok(()),
        _ => Err(bad_csrf()),
    }
}

/// `GET /console/api/session`: who is signed in, with MFA or not, until when; and the
/// CSRF token (readable only by same-origin scripts).
pub async fn session(
    State(app): State<Arc<App>>,
    axum::Extension(conn): axum::Extension<ConnInfo>,
    request: Request,
) -> Response {
    let req = read(&app, conn, request).await;
    let request_id = &req.context.request_id;
    match current_session(&app, &req).await {
        Err(err) => error_response(&app, &err, request_id),
        Ok((token, subject)) => {
            let user_name = match &subject.principal.kind {
                cloudward_service::PrincipalKind::User { user_name, .. } => user_name.clone(),
                _ => String::new(),
            };
            let body = json!({
                "RequestId": request_id,
                "Session": session_json(&subject.session, &user_name),
                "CsrfToken": signin::csrf_token(&token),
            });
            json_response(StatusCode::OK, &body, request_id)
        }
    }
}

/// `POST /console/api/signout` (CSRF token required): ends the session, clears the cookie.
pub async fn signout(
    State(app): State<Arc<App>>,
    axum::Extension(conn): axum::Extension<ConnInfo>,
    request: Request,
) -> Response {
    let req = read(&app, conn, request).await;
    let request_id = req.context.request_id.clone();
    let mut principal = None;
    let result = async {
        let (token, subject) = current_session(&app, &req).await?;
        principal = Some(subject.principal);
        check_csrf(&req, &token)?;
        signin::sign_out(&app.service, &token).await?;
        Ok::<(), ApiError>(())
    }
    .await;
    // Invariant: ending a session is a state change like any other: one durable event.
    let recorded = match signout_event(&app, principal.as_ref(), &result, &req.context) {
        Ok(event) => app.audit.record(event, &[]).await,
        Err(err) => Err(err),
    };
    if let Err(err) = recorded {
        tracing::error!(error = %err, request_id = %request_id, "sign-out audit event not recorded; failing the call");
        return error_response(&app, &ApiError::internal(), &request_id);
    }
    app.metrics.audit_event();
    match result {
        Err(err) => error_response(&app, &err, &request_id),
        Ok(()) => {
            let mut response = json_response(
                StatusCode::OK,
                &json!({ "RequestId": request_id }),
                &request_id,
            );
            if let Some(cookie) = session_cookie("", 0, req.tls) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
    }
}

/// The `ConsoleSignout` event: the session's user when there was a session, anonymous
/// otherwise; the outcome as for any call.
fn signout_event(
    app: &App,
    principal: Option<&cloudward_service::Principal>,
    result: &Result<(), ApiError>,
    context: &RequestContext,
) -> Result<ActionTrailEvent, cloudward_audit::AuditError> {
    let ok = Value::Null;
    let call = cloudward_audit::CallFacts {
        spec: None,
        version: None,
        action: Some("ConsoleSignout"),
        product: Some(SIGNIN_SERVICE_NAME),
        caller: principal,
        claimed_account: None,
        claimed_access_key_id: None,
        params: None,
        result: result.as_ref().map(|()| &ok),
        context,
        region: &app.service.region,
    };
    let mut event = cloudward_audit::build_event(&call)?;
    event.event_type = EventType::ConsoleSignin;
    event.event_name = "ConsoleSignout".to_owned();
    event.event_source = SIGNIN_EVENT_SOURCE.to_owned();
    event.service_name = SIGNIN_SERVICE_NAME.to_owned();
    event.event_rw = EventRw::Write;
    Ok(event)
}

/// Parameters of a console call: `{"Version", "Action", "Parameters": {name: value}}`
/// (values as strings; numbers and booleans are converted, as an SDK would send them).
fn call_params(body: &Map<String, Value>) -> Result<(String, String, Params), ApiError> {
    let version = string_field(body, "Version")?.to_owned();
    let action = string_field(body, "Action")?.to_owned();
    let mut params = Params::new();
    match body.get("Parameters") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => {
                        return Err(ApiError::new(
                            "InvalidParameter",
                            400,
                            format!("The parameter {k} must be a string, number or boolean."),
                        ));
                    }
                };
                params.insert(k.clone(), text);
            }
        }
        Some(_) => {
            return Err(ApiError::new(
                "InvalidParameter",
                400,
                "Parameters must be a JSON object.",
            ));
        }
    }
    Ok((version, action, params))
}

/// `POST /console/api/call` (CSRF token required): runs an API action as the signed-in
/// user. After the session check it is the RPC pipeline itself — route, authorize with
/// the user's policies (`acs:MFAPresent` = whether MFA was used at sign-in), handler, one
/// audit event — and the answer is the RPC JSON envelope.
pub async fn call(
    State(app): State<Arc<App>>,
    axum::Extension(conn): axum::Extension<ConnInfo>,
    request: Request,
) -> Response {
    app.metrics.in_flight(1);
    let req = read(&app, conn, request).await;
    let mut outcome = Outcome::empty();
    let mut context = req.context.clone();
    let prepared = async {
        let body = req.json();
        if let Ok(body) = &body {
            outcome.version = body
                .get("Version")
                .and_then(Value::as_str)
                .map(str::to_owned);
            outcome.action = body
                .get("Action")
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        let (token, subject) = current_session(&app, &req).await?;
        // Until the CSRF check passes the caller is not authenticated for this request;
        // the audit event names the session's account as claimed.
        outcome.partial.account_id = Some(subject.session.account_id.clone());
        outcome.partial.access_key_id = Some(subject.principal.access_key_id.clone());
        check_csrf(&req, &token)?;
        let (version, action, params) = call_params(&body?)?;
        Ok::<_, ApiError>((subject, version, action, params))
    }
    .await;
    match prepared {
        Err(err) => outcome.result = Err(err),
        Ok((subject, version, action, params)) => {
            context.mfa_present = subject.session.mfa_present;
            // Invariant: built only here, after the session token matched a live session.
            let caller =
                Authenticated::after_console_session_verified(subject.principal, context.clone());
            rpc::dispatch(&app, caller, &version, &action, params, &mut outcome).await;
        }
    }
    let mut response = rpc::respond(&app, outcome, &context, req.started).await;
    no_store(response.headers_mut());
    app.metrics.in_flight(-1);
    response
}

// ---------------------------------------------------------------------------------------
// The page.

const PAGE_STYLE: &str = include_str!("console/signin.css");
const PAGE_SCRIPT: &str = include_str!("console/signin.js");
const PAGE_TEMPLATE: &str = include_str!("console/signin.html");

/// The page with its style and script inlined, and the CSP that allows exactly those two
/// inline blocks (by hash) and requests to this origin — nothing else.
static PAGE: LazyLock<(String, String)> = LazyLock::new(|| {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    let hash = |text: &str| {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
    };
    let html = PAGE_TEMPLATE
        .replace("/*STYLE*/", PAGE_STYLE)
        .replace("/*SCRIPT*/", PAGE_SCRIPT);
    let csp = format!(
        "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        hash(PAGE_SCRIPT),
        hash(PAGE_STYLE)
    );
    (html, csp)
});

/// `GET /signin`: the sign-in page.
pub async fn page() -> Response {
    let (html, csp) = &*PAGE;
    let mut response = (StatusCode::OK, Body::from(html.clone())).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    no_store(headers);
    response
}
