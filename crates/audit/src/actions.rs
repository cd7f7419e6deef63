//! ActionTrail `2020-07-06` actions (`LookupEvents`, trails, the AccessKey audit view
//! `GetAccessKeyLastUsed{Info,Products,Events,Ips,Resources}`) and Cloudward's integrity
//! extensions (`GetCheckpoint`, `CreateCheckpoint`, `GetInclusionProof`,
//! `GetConsistencyProof`, `RotateCheckpointKey`), as [`ActionSpec`]s.
//!
//! Every handler reads the [`AuditLog`] from `ServiceState.extensions` and scopes every
//! query by the caller's account. A management account with a logging organization trail
//! also sees its members' events in `LookupEvents`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use cloudward_iam::util::{invalid, optional, optional_bool, optional_int, required};
use cloudward_protocol::{ApiError, parse_timestamp};
use cloudward_service::{
    Access, ActionSpec, Call, HandlerFuture, Params, Principal, ReadWrite, ServiceState,
};
use cloudward_trail::SignedCheckpoint;
use serde_json::{Value, json};

use crate::AuditError;
use crate::log::AuditLog;
use crate::lookup::{Attribute, Cursor, LookupQuery};
use crate::trails::{self, Trail};

/// ActionTrail API version.
pub const VERSION: &str = "2020-07-06";
const PRODUCT: &str = "Actiontrail";
const SOURCE: &str = "actiontrail.aliyuncs.com";
/// Most trails per account.
pub const MAX_TRAILS: usize = 5;
/// Default `MaxResults` of `LookupEvents`.
pub const DEFAULT_MAX_RESULTS: i64 = 20;
/// Most `LookupAttribute.N` filters.
pub const MAX_ATTRIBUTES: usize = 5;

fn any_resource(_: &Params, p: &Principal) -> Result<String, ApiError> {
    Ok(format!("acs:actiontrail:*:{}:*", p.account_id))
}

fn trail_resource(params: &Params, p: &Principal) -> Result<String, ApiError> {
    let name = required(params, "Name")?;
    Ok(format!("acs:actiontrail:*:{}:trail/{name}", p.account_id))
}

fn all_trails_resource(_: &Params, p: &Principal) -> Result<String, ApiError> {
    Ok(format!("acs:actiontrail:*:{}:trail/*", p.account_id))
}

const fn spec(
    name: &'static str,
    ram_action: &'static str,
    rw: ReadWrite,
    resource: fn(&Params, &Principal) -> Result<String, ApiError>,
    handler: cloudward_service::Handler,
) -> ActionSpec {
    ActionSpec {
        product: PRODUCT,
        event_source: SOURCE,
        version: VERSION,
        name,
        ram_action,
        rw,
        access: Access::Policy { resource },
        secret_fields: &[],
        handler,
    }
}

/// The actions, for the server's registry.
pub const ACTIONS: &[ActionSpec] = &[
    spec(
        "LookupEvents",
        "actiontrail:LookupEvents",
        ReadWrite::Read,
        any_resource,
        lookup_events,
    ),
    spec(
        "GetAccessKeyLastUsedInfo",
        "actiontrail:GetAccessKeyLastUsedInfo",
        ReadWrite::Read,
        any_resource,
        ak_last_used_info,
    ),
    spec(
        "GetAccessKeyLastUsedProducts",
        "actiontrail:GetAccessKeyLastUsedProducts",
        ReadWrite::Read,
        any_resource,
        ak_last_used_products,
    ),
    spec(
        "GetAccessKeyLastUsedEvents",
        "actiontrail:GetAccessKeyLastUsedEvents",
        ReadWrite::Read,
        any_resource,
        ak_last_used_events,
    ),
    spec(
        "GetAccessKeyLastUsedIps",
        "actiontrail:GetAccessKeyLastUsedIps",
        ReadWrite::Read,
        any_resource,
        ak_last_used_ips,
    ),
    spec(
        "GetAccessKeyLastUsedResources",
        "actiontrail:GetAccessKeyLastUsedResources",
        ReadWrite::Read,
        any_resource,
        ak_last_used_resources,
    ),
    spec(
        "CreateTrail",
        "actiontrail:CreateTrail",
        ReadWrite::Write,
        trail_resource,
        create_trail,
    ),
    spec(
        "UpdateTrail",
        "actiontrail:UpdateTrail",
        ReadWrite::Write,
        trail_resource,
        update_trail,
    ),
    spec(
        "DeleteTrail",
        "actiontrail:DeleteTrail",
        ReadWrite::Write,
        trail_resource,
        delete_trail,
    ),
    spec(
        "DescribeTrails",
        "actiontrail:DescribeTrails",
        ReadWrite::Read,
        all_trails_resource,
        describe_trails,
    ),
    spec(
        "GetTrailStatus",
        "actiontrail:GetTrailStatus",
        ReadWrite::Read,
        trail_resource,
        get_trail_status,
    ),
    spec(
        "StartLogging",
        "actiontrail:StartLogging",
        ReadWrite::Write,
        trail_resource,
        start_logging,
    ),
    spec(
        "StopLogging",
        "actiontrail:StopLogging",
        ReadWrite::Write,
        trail_resource,
        stop_logging,
    ),
    // Cloudward extensions (docs/audit.md).
    spec(
        "GetCheckpoint",
        "actiontrail:GetCheckpoint",
        ReadWrite::Read,
        any_resource,
        get_checkpoint,
    ),
    spec(
        "CreateCheckpoint",
        "actiontrail:CreateCheckpoint",
        ReadWrite::Write,
        any_resource,
        create_checkpoint,
    ),
    spec(
        "GetInclusionProof",
        "actiontrail:GetInclusionProof",
        ReadWrite::Read,
        any_resource,
        get_inclusion_proof,
    ),
    spec(
        "GetConsistencyProof",
        "actiontrail:GetConsistencyProof",
        ReadWrite::Read,
        any_resource,
        get_consistency_proof,
    ),
    spec(
        "RotateCheckpointKey",
        "actiontrail:RotateCheckpointKey",
        ReadWrite::Write,
        any_resource,
        rotate_checkpoint_key,
    ),
];

/// Every action of this crate.
#[must_use]
pub fn actions() -> Vec<ActionSpec> {
    ACTIONS.to_vec()
}

fn api_error(err: AuditError) -> ApiError {
    match err {
        AuditError::NotFound(what) => {
            ApiError::new("EntityNotExist", 404, format!("The {what} does not exist."))
        }
        AuditError::Invalid(msg) => invalid("InvalidParameter", msg),
        other => {
            tracing::error!(error = %other, "audit service failed");
            ApiError::internal()
        }
    }
}

fn log_of(state: &ServiceState) -> Result<std::sync::Arc<AuditLog>, ApiError> {
    state.extension::<AuditLog>().ok_or_else(|| {
        tracing::error!("the audit log is not registered in ServiceState.extensions");
        ApiError::internal()
    })
}

fn now_s(state: &ServiceState) -> i64 {
    state.clock.now().unix_timestamp()
}

fn trail_not_found() -> ApiError {
    ApiError::new(
        "TrailNotFoundException",
        404,
        "The specified trail does not exist.",
    )
}

/// Accounts whose events the caller may read: its own, plus its organization's members
/// when it is a management account with a logging organization trail.
async fn readable_accounts(
    log: &AuditLog,
    state: &ServiceState,
    account: &str,
) -> Result<Vec<String>, ApiError> {
    let mut accounts = vec![account.to_owned()];
    let acct = account.to_owned();
    let org = log
        .read(move |c| trails::has_org_trail(c, &acct))
        .await
        .map_err(api_error)?;
    if org {
        let members = state
            .store
            .rd_list_members(account, None)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot list organization members");
                ApiError::internal()
            })?;
        accounts.extend(
            members
                .into_iter()
                .map(|m| m.account_id)
                .filter(|a| a != account),
        );
    }
    Ok(accounts)
}

fn parse_time(params: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    optional(params, name)
        .map(|text| {
            parse_timestamp(text).map(|t| t.unix_timestamp()).map_err(|_| {
                invalid(
                    &format!("InvalidParameter.{name}"),
                    format!("The parameter {name} must be an ISO 8601 UTC time (yyyy-MM-ddTHH:mm:ssZ)."),
                )
            })
        })
        .transpose()
}

fn lookup_events(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let params = call.params;
        let log = log_of(call.state)?;
        let now = now_s(call.state);
        let retention =
            i64::try_from(log.shared.options.retention.as_secs()).unwrap_or(90 * 86_400);
        let end = parse_time(params, "EndTime")?.unwrap_or(now);
        let start = parse_time(params, "StartTime")?.unwrap_or(end - retention);
        if start > end {
            return Err(invalid(
                "InvalidParameter.StartTime",
                "StartTime must not be later than EndTime.",
            ));
        }
        let max = optional_int(params, "MaxResults", 1, 50, "InvalidParameter.MaxResults")?
            .unwrap_or(DEFAULT_MAX_RESULTS);
        let backward = match optional(params, "Direction") {
            None => true,
            Some(d) if d.eq_ignore_ascii_case("BACKWARD") => true,
            Some(d) if d.eq_ignore_ascii_case("FORWARD") => false,
            Some(_) => {
                return Err(invalid(
                    "InvalidParameter.Direction",
                    "Direction must be FORWARD or BACKWARD.",
                ));
            }
        };
        let after = match optional(params, "NextToken") {
            None => None,
            Some(t) => Some(Cursor::from_token(t).ok_or_else(|| {
                invalid("InvalidParameter.NextToken", "The NextToken is not valid.")
            })?),
        };
        let mut filters = Vec::new();
        for n in 1..=10 {
            let key = optional(params, &format!("LookupAttribute.{n}.Key"));
            let value = optional(params, &format!("LookupAttribute.{n}.Value"));
            match (key, value) {
                (None, None) => continue,
                (Some(k), Some(v)) => {
                    let attr = Attribute::parse(k).ok_or_else(|| {
                        invalid(
                            "InvalidParameter.LookupAttribute",
                            format!("Unknown LookupAttribute key {k:?}."),
                        )
                    })?;
                    filters.push((attr, v.to_owned()));
                }
                _ => {
                    return Err(invalid(
                        "InvalidParameter.LookupAttribute",
                        format!("LookupAttribute.{n} needs both Key and Value."),
                    ));
                }
            }
        }
        if filters.len() > MAX_ATTRIBUTES {
            return Err(invalid(
                "InvalidParameter.LookupAttribute",
                format!("At most {MAX_ATTRIBUTES} LookupAttribute filters are allowed."),
            ));
        }
        let principal = call.auth.principal();
        let accounts = readable_accounts(&log, call.state, &principal.account_id).await?;
        let query = LookupQuery {
            accounts,
            start_s: start,
            end_s: end,
            filters,
            max_results: usize::try_from(max).unwrap_or(20),
            backward,
            after,
        };
        let page = log.lookup(query).await.map_err(api_error)?;
        let events = page
            .events
            .iter()
            .map(|b| serde_json::from_slice::<Value>(b))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                tracing::error!(error = %e, "stored event is not JSON");
                ApiError::internal()
            })?;
        let mut body = json!({
            "Events": events,
            "StartTime": trails::iso(start),
            "EndTime": trails::iso(end),
        });
        if let Some(next) = page.next
            && let Some(obj) = body.as_object_mut()
        {
            obj.insert("NextToken".to_owned(), json!(next.token()));
        }
        Ok(body)
    })
}

// ---- AccessKey audit view (GetAccessKeyLastUsed*) ---------------------------------

/// Default `PageSize` of the `GetAccessKeyLastUsed*` lists (as the SDK documents).
pub const DEFAULT_PAGE_SIZE: i64 = 20;
/// Largest `PageSize`.
pub const MAX_PAGE_SIZE: i64 = 100;
/// `Source` of every item: Cloudward records management events only.
const USAGE_SOURCE: &str = "ManagementEvent";

fn key_not_found() -> ApiError {
    // The same answer for an unknown key, another account's key and a key never used:
    // the caller learns nothing about keys outside its account.
    ApiError::new(
        "EntityNotExist.AccessKey",
        404,
        "The specified AccessKey does not exist in this account or has no recorded use.",
    )
}

fn detail(count: i64) -> String {
    json!({ "Count": count }).to_string()
}

/// `PageSize` and the position after which the page starts (`NextToken`: the kind and
/// name of the last item returned).
fn page_params(params: &Params) -> Result<(usize, Option<(String, String)>), ApiError> {
    let size = optional_int(
        params,
        "PageSize",
        0,
        MAX_PAGE_SIZE,
        "InvalidParameter.PageSize",
    )?
    .filter(|n| *n > 0)
    .unwrap_or(DEFAULT_PAGE_SIZE);
    let after =
        match optional(params, "NextToken") {
            None => None,
            Some(t) => Some(usage_token_decode(t).ok_or_else(|| {
                invalid("InvalidParameter.NextToken", "The NextToken is not valid.")
            })?),
        };
    Ok((usize::try_from(size).unwrap_or(20), after))
}

fn usage_token(kind: &str, name: &str) -> String {
    let text = json!(["aku1", kind, name]).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn usage_token_decode(token: &str) -> Option<(String, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let (tag, kind, name): (String, String, String) = serde_json::from_slice(&raw).ok()?;
    (tag == "aku1").then_some((kind, name))
}

/// The caller's account, the `AccessKey` parameter, and an error unless the key has a
/// recorded use in that account.
async fn usage_key(call: &Call<'_>, log: &AuditLog) -> Result<(String, String), ApiError> {
    let account = call.auth.principal().account_id.clone();
    let key = required(call.params, "AccessKey")?.to_owned();
    let (a, k) = (account.clone(), key.clone());
    let last = log
        .read_indexed(move |c| crate::usage::last_used(c, &a, &k))
        .await
        .map_err(api_error)?;
    if last.is_none() {
        return Err(key_not_found());
    }
    Ok((account, key))
}

fn ak_last_used_info(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let log = log_of(call.state)?;
        let account = call.auth.principal().account_id.clone();
        let key = required(call.params, "AccessKey")?.to_owned();
        let (a, k) = (account.clone(), key.clone());
        let last = log
            .read_indexed(move |c| crate::usage::last_used(c, &a, &k))
            .await
            .map_err(api_error)?
            .ok_or_else(key_not_found)?;
        Ok(json!({
            "AccessKeyId": key,
            "AccountId": account,
            "OwnerId": account,
            "AccountType": last.identity_type,
            "UserName": last.user_name,
            "ServiceName": last.service,
            "ServiceNameCn": last.service,
            "ServiceNameEn": last.service,
            "Source": USAGE_SOURCE,
            "UsedTimestamp": last.last_ms,
            "Detail": json!({
                "EventName": last.action,
                "SourceIpAddress": last.ip,
                "Count": last.total,
            }).to_string(),
        }))
    })
}

fn ak_last_used_products(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let log = log_of(call.state)?;
        let (account, key) = usage_key(&call, &log).await?;
        let list = log
            .read_indexed(move |c| crate::usage::products(c, &account, &key))
            .await
            .map_err(api_error)?;
        let products: Vec<Value> = list
            .iter()
            .map(|u| {
                json!({
                    "ServiceName": u.name,
                    "ServiceNameCn": u.name,
                    "ServiceNameEn": u.name,
                    "Source": USAGE_SOURCE,
                    "UsedTimestamp": u.last_ms,
                    "Count": u.count,
                    "Detail": detail(u.count),
                })
            })
            .collect();
        Ok(json!({ "Products": products }))
    })
}

async fn usage_list(call: Call<'_>, dim: crate::usage::Dimension) -> Result<Value, ApiError> {
    use crate::usage::Dimension;
    let log = log_of(call.state)?;
    let service = required(call.params, "ServiceName")?.to_owned();
    let (size, after) = page_params(call.params)?;
    let (account, key) = usage_key(&call, &log).await?;
    // One more than a page tells whether a next page exists.
    let mut list = log
        .read_indexed(move |c| {
            let after = after.as_ref().map(|(k, n)| (k.as_str(), n.as_str()));
            crate::usage::within_service(c, &account, &key, &service, dim, after, size + 1)
        })
        .await
        .map_err(api_error)?;
    let more = list.len() > size;
    list.truncate(size);
    let items: Vec<Value> = list
        .iter()
        .map(|u| {
            let mut item = json!({
                "Source": USAGE_SOURCE,
                "UsedTimestamp": u.last_ms,
                "Count": u.count,
                "Detail": detail(u.count),
            });
            if let Some(obj) = item.as_object_mut() {
                match dim {
                    Dimension::Events => {
                        obj.insert("EventName".to_owned(), json!(u.name));
                    }
                    Dimension::Ips => {
                        obj.insert("Ip".to_owned(), json!(u.name));
                    }
                    Dimension::Resources => {
                        obj.insert("ResourceName".to_owned(), json!(u.name));
                        obj.insert("ResourceType".to_owned(), json!(u.kind));
                    }
                }
            }
            item
        })
        .collect();
    let field = match dim {
        Dimension::Events => "Events",
        Dimension::Ips => "Ips",
        Dimension::Resources => "Resources",
    };
    let mut body = serde_json::Map::new();
    body.insert(field.to_owned(), Value::Array(items));
    if more && let Some(last) = list.last() {
        let token = usage_token(last.kind.as_deref().unwrap_or(""), &last.name);
        body.insert("NextToken".to_owned(), json!(token));
    }
    Ok(Value::Object(body))
}

fn ak_last_used_events(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(usage_list(call, crate::usage::Dimension::Events))
}

fn ak_last_used_ips(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(usage_list(call, crate::usage::Dimension::Ips))
}

fn ak_last_used_resources(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(usage_list(call, crate::usage::Dimension::Resources))
}

fn check_event_rw(value: &str) -> Result<String, ApiError> {
    match value {
        "All" | "Read" | "Write" => Ok(value.to_owned()),
        _ => Err(invalid(
            "InvalidParameter.EventRW",
            "EventRW must be All, Read or Write.",
        )),
    }
}

fn check_bucket(value: &str) -> Result<String, ApiError> {
    let ok = (3..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(invalid(
            "InvalidParameter.OssBucketName",
            "OssBucketName must be 3 to 63 lower-case letters, digits or hyphens.",
        ))
    }
}

fn check_prefix(value: &str) -> Result<String, ApiError> {
    let ok = value.len() <= 256
        && value.split('/').all(|p| p != "..")
        && value.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(value.to_owned())
    } else {
        Err(invalid(
            "InvalidParameter.OssKeyPrefix",
            "OssKeyPrefix is not valid.",
        ))
    }
}

fn create_trail(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let params = call.params;
        let log = log_of(call.state)?;
        let account = call.auth.principal().account_id.clone();
        let name = required(params, "Name")?;
        if !trails::valid_name(name) {
            return Err(invalid(
                "InvalidParameter.Name",
                "The trail name must be 6 to 36 characters: lower-case letters, digits, hyphens and underscores, starting with a letter.",
            ));
        }
        let is_org = optional_bool(params, "IsOrganizationTrail")?.unwrap_or(false);
        if is_org {
            let mgmt = call
                .state
                .store
                .directory_management_account(&account)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "directory look-up failed");
                    ApiError::internal()
                })?;
            if mgmt.as_deref() != Some(account.as_str()) {
                return Err(ApiError::new(
                    "NotOrganizationMasterAccount",
                    403,
                    "Only the management account of a resource directory can create an organization trail.",
                ));
            }
        }
        let now = now_s(call.state);
        let trail = Trail {
            account_id: account.clone(),
            name: name.to_owned(),
            event_rw: check_event_rw(optional(params, "EventRW").unwrap_or("All"))?,
            is_org,
            oss_bucket: optional(params, "OssBucketName")
                .map(check_bucket)
                .transpose()?
                .unwrap_or_default(),
            oss_prefix: optional(params, "OssKeyPrefix")
                .map(check_prefix)
                .transpose()?
                .unwrap_or_default(),
            oss_role: optional(params, "OssWriteRoleArn").unwrap_or("").to_owned(),
            sls_project: optional(params, "SlsProjectArn").unwrap_or("").to_owned(),
            sls_role: optional(params, "SlsWriteRoleArn").unwrap_or("").to_owned(),
            trail_region: optional(params, "TrailRegion").unwrap_or("All").to_owned(),
            home_region: call.state.region.clone(),
            logging: false,
            created_s: now,
            updated_s: now,
            start_logging_s: None,
            stop_logging_s: None,
            cursor: log.size(),
            delivered: 0,
            last_delivery_s: None,
            last_error: None,
        };
        let t = trail.clone();
        let outcome = log
            .write(move |c| {
                if trails::list(c, &t.account_id)?.len() >= MAX_TRAILS {
                    return Ok(Err(()));
                }
                Ok(Ok(trails::insert(c, &t)?))
            })
            .await
            .map_err(api_error)?;
        match outcome {
            Err(()) => Err(ApiError::new(
                "LimitExceeded.Trail",
                409,
                format!("An account can have at most {MAX_TRAILS} trails."),
            )),
            Ok(false) => Err(ApiError::new(
                "TrailAlreadyExistsException",
                409,
                "A trail with this name already exists.",
            )),
            Ok(true) => Ok(trail_body(&trail)),
        }
    })
}

fn trail_body(t: &Trail) -> Value {
    json!({
        "Name": t.name,
        "HomeRegion": t.home_region,
        "EventRW": t.event_rw,
        "OssBucketName": t.oss_bucket,
        "OssKeyPrefix": t.oss_prefix,
        "OssWriteRoleArn": t.oss_role,
        "SlsProjectArn": t.sls_project,
        "SlsWriteRoleArn": t.sls_role,
        "TrailRegion": t.trail_region,
    })
}

async fn load_trail(log: &AuditLog, account: &str, name: &str) -> Result<Trail, ApiError> {
    let (a, n) = (account.to_owned(), name.to_owned());
    log.read(move |c| trails::get(c, &a, &n))
        .await
        .map_err(api_error)?
        .ok_or_else(trail_not_found)
}

fn update_trail(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let params = call.params;
        let log = log_of(call.state)?;
        let account = &call.auth.principal().account_id;
        let name = required(params, "Name")?;
        let mut t = load_trail(&log, account, name).await?;
        if let Some(v) = optional(params, "EventRW") {
            t.event_rw = check_event_rw(v)?;
        }
        if let Some(v) = optional(params, "OssBucketName") {
            t.oss_bucket = check_bucket(v)?;
        }
        if let Some(v) = optional(params, "OssKeyPrefix") {
            t.oss_prefix = check_prefix(v)?;
        }
        if let Some(v) = optional(params, "OssWriteRoleArn") {
            t.oss_role = v.to_owned();
        }
        if let Some(v) = optional(params, "SlsProjectArn") {
            t.sls_project = v.to_owned();
        }
        if let Some(v) = optional(params, "SlsWriteRoleArn") {
            t.sls_role = v.to_owned();
        }
        if let Some(v) = optional(params, "TrailRegion") {
            t.trail_region = v.to_owned();
        }
        t.updated_s = now_s(call.state);
        let copy = t.clone();
        let found = log
            .write(move |c| trails::update(c, &copy))
            .await
            .map_err(api_error)?;
        if !found {
            return Err(trail_not_found());
        }
        Ok(trail_body(&t))
    })
}

fn delete_trail(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let log = log_of(call.state)?;
        let account = call.auth.principal().account_id.clone();
        let name = required(call.params, "Name")?.to_owned();
        let found = log
            .write(move |c| trails::delete(c, &account, &name))
            .await
            .map_err(api_error)?;
        if !found {
            return Err(trail_not_found());
        }
        Ok(json!({}))
    })
}

fn describe_trails(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let params = call.params;
        let log = log_of(call.state)?;
        let account = call.auth.principal().account_id.clone();
        let names: Option<Vec<String>> = optional(params, "NameList").map(|l| {
            l.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        });
        let include_org = optional_bool(params, "IncludeOrganizationTrail")?.unwrap_or(false);
        let mgmt = if include_org {
            call.state
                .store
                .directory_management_account(&account)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "directory look-up failed");
                    ApiError::internal()
                })?
        } else {
            None
        };
        let acct = account.clone();
        let mut list = log
            .read(move |c| {
                let mut list = trails::list(c, &acct)?;
                if let Some(m) = mgmt.filter(|m| *m != acct) {
                    list.extend(trails::list(c, &m)?.into_iter().filter(|t| t.is_org));
                }
                Ok(list)
            })
            .await
            .map_err(api_error)?;
        if let Some(names) = names {
            list.retain(|t| names.contains(&t.name));
        }
        let region = call.state.region.clone();
        let list: Vec<Value> = list.iter().map(|t| trails::to_json(t, &region)).collect();
        Ok(json!({ "TrailList": list }))
    })
}

fn get_trail_status(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let log = log_of(call.state)?;
        let account = &call.auth.principal().account_id;
        let t = load_trail(&log, account, required(call.params, "Name")?).await?;
        Ok(json!({
            "IsLogging": t.logging,
            "StartLoggingTime": t.start_logging_s.map(trails::iso).unwrap_or_default(),
            "StopLoggingTime": t.stop_logging_s.map(trails::iso).unwrap_or_default(),
            "LatestDeliveryTime": t.last_delivery_s.map(trails::iso).unwrap_or_default(),
            "LatestDeliveryError": t.last_error.unwrap_or_default(),
            "LatestDeliveryLogServiceTime": "",
            "LatestDeliveryLogServiceError": "",
            "OssBucketStatus": !t.oss_bucket.is_empty(),
            "SlsLogStoreStatus": false,
            "DeliveredEvents": t.delivered,
        }))
    })
}

async fn set_logging(call: Call<'_>, on: bool) -> Result<Value, ApiError> {
    let log = log_of(call.state)?;
    let account = call.auth.principal().account_id.clone();
    let name = required(call.params, "Name")?.to_owned();
    let now = now_s(call.state);
    let from = log.size();
    let found = log
        .write(move |c| trails::set_logging(c, &account, &name, on, now, from))
        .await
        .map_err(api_error)?;
    if !found {
        return Err(trail_not_found());
    }
    Ok(json!({}))
}

fn start_logging(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(set_logging(call, true))
}

fn stop_logging(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(set_logging(call, false))
}

fn checkpoint_json(cp: &SignedCheckpoint) -> Result<Value, ApiError> {
    let text = cp.to_text().map_err(|e| api_error(e.into()))?;
    Ok(json!({
        "Origin": cp.checkpoint.origin,
        "TreeSize": cp.checkpoint.size,
        "RootHash": B64.encode(cp.checkpoint.root),
        "Timestamp": cp.checkpoint.timestamp,
        "Note": text,
    }))
}

fn hashes(list: &[cloudward_trail::Hash]) -> Vec<String> {
    list.iter().map(|h| B64.encode(h)).collect()
}

fn get_checkpoint(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let log = log_of(call.state)?;
        let size = optional_int(
            call.params,
            "TreeSize",
            0,
            i64::MAX,
            "InvalidParameter.TreeSize",
        )?
        .map(|s| u64::try_from(s).unwrap_or(0));
        let cp = log
            .read(move |c| crate::log::stored_checkpoint(c, size))
            .await
            .map_err(api_error)?;
        let cp = match cp {
            Some(cp) => cp,
            None if size.is_none() => log.checkpoint_now().await.map_err(api_error)?,
            None => {
                return Err(ApiError::new(
                    "EntityNotExist.Checkpoint",
                    404,
                    "No checkpoint was signed for this tree size.",
                ));
            }
        };
        let keyring = log.keyring().map_err(api_error)?;
        let mut body = json!({ "Checkpoint": checkpoint_json(&cp)? });
        if let Some(obj) = body.as_object_mut() {
            obj.insert(
                "PublicKeys".to_owned(),
                json!(
                    keyring
                        .keys()
                        .iter()
                        .map(|k| json!({
                            "VerifierKey": k.vkey(),
                            "NotBefore": k.not_before,
                            "NotAfter": k.not_after,
                        }))
                        .collect::<Vec<_>>()
                ),
            );
        }
        Ok(body)
    })
}

fn create_checkpoint(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let log = log_of(call.state)?;
        let cp = log.checkpoint_now().await.map_err(api_error)?;
        Ok(json!({ "Checkpoint": checkpoint_json(&cp)? }))
    })
}

fn get_inclusion_proof(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let log = log_of(call.state)?;
        let event_id = required(call.params, "EventId")?.to_owned();
        let size = optional_int(
            call.params,
            "TreeSize",
            1,
            i64::MAX,
            "InvalidParameter.TreeSize",
        )?
        .map(|s| u64::try_from(s).unwrap_or(0));
        let accounts =
            readable_accounts(&log, call.state, &call.auth.principal().account_id).await?;
        let proof = log
            .inclusion_proof(event_id.clone(), accounts, size)
            .await
            .map_err(|e| match e {
                AuditError::NotFound(_) => ApiError::new(
                    "EntityNotExist.Event",
                    404,
                    "The event does not exist or is not visible to this account.",
                ),
                other => api_error(other),
            })?;
        Ok(json!({
            "EventId": event_id,
            "LeafIndex": proof.index,
            "LeafHash": B64.encode(proof.leaf_hash),
            "TreeSize": proof.checkpoint.checkpoint.size,
            "AuditPath": hashes(&proof.proof),
            "Checkpoint": checkpoint_json(&proof.checkpoint)?,
        }))
    })
}

fn get_consistency_proof(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let log = log_of(call.state)?;
        let first = optional_int(
            call.params,
            "FirstTreeSize",
            0,
            i64::MAX,
            "InvalidParameter.FirstTreeSize",
        )?
        .ok_or_else(|| cloudward_iam::util::missing("FirstTreeSize"))?;
        let second = optional_int(
            call.params,
            "SecondTreeSize",
            0,
            i64::MAX,
            "InvalidParameter.SecondTreeSize",
        )?
        .ok_or_else(|| cloudward_iam::util::missing("SecondTreeSize"))?;
        let proof = log
            .consistency_proof(
                u64::try_from(first).unwrap_or(0),
                u64::try_from(second).unwrap_or(0),
            )
            .await
            .map_err(|e| match e {
                AuditError::NotFound(what) => ApiError::new(
                    "EntityNotExist.Checkpoint",
                    404,
                    format!("No {what} was signed."),
                ),
                other => api_error(other),
            })?;
        Ok(json!({
            "FirstCheckpoint": checkpoint_json(&proof.first)?,
            "SecondCheckpoint": checkpoint_json(&proof.second)?,
            "Proof": hashes(&proof.proof),
        }))
    })
}

fn rotate_checkpoint_key(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let log = log_of(call.state)?;
        let account = &call.auth.principal().account_id;
        let mgmt = call
            .state
            .store
            .meta_get("management_account_id")
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "meta look-up failed");
                ApiError::internal()
            })?;
        if mgmt.as_deref() != Some(account.as_str()) {
            return Err(ApiError::new(
                "Forbidden.NotManagementAccount",
                403,
                "Only the deployment's management account can rotate the checkpoint key.",
            ));
        }
        let cp = log.rotate_key().await.map_err(api_error)?;
        let keyring = log.keyring().map_err(api_error)?;
        Ok(json!({
            "Checkpoint": checkpoint_json(&cp)?,
            "PublicKeys": keyring.keys().iter().map(|k| json!({
                "VerifierKey": k.vkey(),
                "NotBefore": k.not_before,
                "NotAfter": k.not_after,
            })).collect::<Vec<_>>(),
        }))
    })
}
