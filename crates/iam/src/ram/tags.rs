//! Tags on users, roles and policies: `TagResources`, `UntagResources`, `ListTagResources`,
//! and the `Tag` parameter of `CreateRole` / `CreatePolicy` / list filters.
//!
//! List parameters arrive either JSON-encoded in one parameter (what the 2026 V2.0 SDK
//! sends: `ResourceNames=["a","b"]`, `Tag=[{"Key":"k","Value":"v"}]`) or flattened
//! (`ResourceNames.1=a`, `Tag.1.Key=k`, `Tag.1.Value=v`); both are accepted.

use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture, Params};
use serde_json::{Value, json};

use super::{MAX_TAGS_PER_RESOURCE, account, policies::SYSTEM, set};
use crate::util::{
    self, entity_not_exist, invalid, limit_exceeded, optional, optional_bool, optional_int,
    required,
};

const MAX_RESOURCE_NAMES: usize = 50;

/// `ResourceType`: `user`, `role` or `policy`.
pub(super) fn resource_type(params: &Params) -> Result<&'static str, ApiError> {
    match required(params, "ResourceType")? {
        "user" => Ok("user"),
        "role" => Ok("role"),
        "policy" => Ok("policy"),
        _ => Err(invalid(
            "InvalidParameter.ResourceType",
            "The parameter ResourceType must be user, role or policy.",
        )),
    }
}

/// A list parameter: JSON array in `name`, or `name.1`, `name.2`, ...
fn string_list(params: &Params, name: &str) -> Result<Vec<String>, ApiError> {
    if let Some(text) = optional(params, name) {
        let bad = || {
            invalid(
                &format!("InvalidParameter.{name}"),
                format!("The parameter {name} must be a JSON array of strings."),
            )
        };
        let value: Value = serde_json::from_str(text).map_err(|_| bad())?;
        return value
            .as_array()
            .ok_or_else(bad)?
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
            .collect();
    }
    let mut out = Vec::new();
    for i in 1.. {
        match optional(params, &format!("{name}.{i}")) {
            Some(v) => out.push(v.to_owned()),
            None => break,
        }
    }
    Ok(out)
}

/// `ResourceNames` (at most 50; at least one when `required_param`).
pub(super) fn resource_names(
    params: &Params,
    required_param: bool,
) -> Result<Vec<String>, ApiError> {
    let names = string_list(params, "ResourceNames")?;
    if names.len() > MAX_RESOURCE_NAMES {
        return Err(invalid(
            "InvalidParameter.ResourceNames",
            format!("At most {MAX_RESOURCE_NAMES} resource names can be given."),
        ));
    }
    if required_param && names.is_empty() {
        return Err(util::missing("ResourceNames"));
    }
    Ok(names)
}

fn check_tag(key: &str, value: &str) -> Result<(), ApiError> {
    let key_len = key.chars().count();
    if key_len == 0 || key_len > 128 || key.starts_with("acs:") || key.starts_with("aliyun") {
        return Err(invalid(
            "InvalidParameter.Tag.Key",
            "A tag key must be 1 to 128 characters and must not start with acs: or aliyun.",
        ));
    }
    if value.chars().count() > 128 {
        return Err(invalid(
            "InvalidParameter.Tag.Value",
            "A tag value must be at most 128 characters.",
        ));
    }
    Ok(())
}

/// The `Tag` parameter: `(key, value)` pairs, at most 20, validated.
pub(super) fn parse_tags(params: &Params) -> Result<Vec<(String, String)>, ApiError> {
    let mut out: Vec<(String, String)> = Vec::new();
    if let Some(text) = optional(params, "Tag") {
        let bad = || {
            invalid(
                "InvalidParameter.Tag",
                "The parameter Tag must be a JSON array of {\"Key\", \"Value\"} objects.",
            )
        };
        let value: Value = serde_json::from_str(text).map_err(|_| bad())?;
        for item in value.as_array().ok_or_else(bad)? {
            let key = item.get("Key").and_then(Value::as_str).ok_or_else(bad)?;
            let value = item.get("Value").and_then(Value::as_str).unwrap_or("");
            out.push((key.to_owned(), value.to_owned()));
        }
    } else {
        for i in 1.. {
            match optional(params, &format!("Tag.{i}.Key")) {
                Some(key) => out.push((
                    key.to_owned(),
                    optional(params, &format!("Tag.{i}.Value"))
                        .unwrap_or("")
                        .to_owned(),
                )),
                None => break,
            }
        }
    }
    if i64::try_from(out.len()).unwrap_or(i64::MAX) > MAX_TAGS_PER_RESOURCE {
        return Err(invalid(
            "InvalidParameter.Tag",
            format!("At most {MAX_TAGS_PER_RESOURCE} tags can be given."),
        ));
    }
    for (k, v) in &out {
        check_tag(k, v)?;
    }
    Ok(out)
}

/// Adds tags to one resource, or `LimitExceeded.Tag` past 20 per resource.
pub(super) async fn store_tags(
    call: &Call<'_>,
    kind: &str,
    name: &str,
    tags: &[(String, String)],
) -> Result<(), ApiError> {
    if tags.is_empty() {
        return Ok(());
    }
    let ok = call
        .state
        .store
        .put_tags(account(call), kind, name, tags, MAX_TAGS_PER_RESOURCE)
        .await
        .map_err(util::store_error)?;
    if ok {
        Ok(())
    } else {
        Err(limit_exceeded(
            "Tag",
            format!("A resource can have at most {MAX_TAGS_PER_RESOURCE} tags."),
        ))
    }
}

/// The named resources must exist in the caller's account (system policies cannot be tagged).
async fn check_exist(call: &Call<'_>, kind: &str, names: &[String]) -> Result<(), ApiError> {
    let store = &call.state.store;
    let acct = account(call);
    for name in names {
        let exists = match kind {
            "user" => store.get_user(acct, name).await.map(|u| u.is_some()),
            "role" => store.get_role(acct, name).await.map(|r| r.is_some()),
            _ => store.get_policy(acct, name).await.map(|p| p.is_some()),
        }
        .map_err(util::store_error)?;
        if !exists {
            let (what, noun) = match kind {
                "user" => ("User", "user"),
                "role" => ("Role", "role"),
                _ => ("Policy", "policy"),
            };
            let hint = if kind == "policy" && cloudward_store::system_policy(name).is_some() {
                format!(" ({SYSTEM} policies cannot be tagged)")
            } else {
                String::new()
            };
            return Err(entity_not_exist(
                what,
                format!("The {noun} {name} does not exist{hint}."),
            ));
        }
    }
    Ok(())
}

pub(super) fn tag_resources(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let kind = resource_type(call.params)?;
        let names = resource_names(call.params, true)?;
        let tags = parse_tags(call.params)?;
        if tags.is_empty() {
            return Err(util::missing("Tag"));
        }
        check_exist(&call, kind, &names).await?;
        for name in &names {
            store_tags(&call, kind, name, &tags).await?;
        }
        Ok(json!({}))
    })
}

pub(super) fn untag_resources(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let kind = resource_type(call.params)?;
        let names = resource_names(call.params, true)?;
        let all = optional_bool(call.params, "All")?.unwrap_or(false);
        let keys = string_list(call.params, "TagKeys")?;
        if !all && keys.is_empty() {
            return Err(util::missing("TagKeys"));
        }
        check_exist(&call, kind, &names).await?;
        for name in &names {
            call.state
                .store
                .remove_tags(
                    account(&call),
                    kind,
                    name,
                    (!all).then_some(keys.as_slice()),
                )
                .await
                .map_err(util::store_error)?;
        }
        Ok(json!({}))
    })
}

pub(super) fn list_tag_resources(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let kind = resource_type(call.params)?;
        let names = resource_names(call.params, false)?;
        let filter = parse_tags(call.params)?;
        let page_size = optional_int(call.params, "PageSize", 1, 100, "InvalidParameter.PageSize")?
            .unwrap_or(50);
        let token = optional(call.params, "NextToken");
        let after = match token {
            None => None,
            Some(t) => Some(t.split_once('/').ok_or_else(|| {
                invalid(
                    "InvalidParameter.NextToken",
                    "The parameter NextToken is invalid.",
                )
            })?),
        };
        let rows = call
            .state
            .store
            .list_tags(
                account(&call),
                kind,
                (!names.is_empty()).then_some(names.as_slice()),
                after,
                i64::MAX,
            )
            .await
            .map_err(util::store_error)?;
        let page = usize::try_from(page_size).unwrap_or(50);
        let mut selected: Vec<_> = rows
            .into_iter()
            .filter(|r| {
                filter.is_empty()
                    || filter
                        .iter()
                        .any(|(k, v)| *k == r.tag_key && (v.is_empty() || *v == r.tag_value))
            })
            .take(page + 1)
            .collect();
        let truncated = selected.len() > page;
        selected.truncate(page);
        let items: Vec<Value> = selected
            .iter()
            .map(|r| {
                json!({
                    "ResourceType": r.resource_type,
                    "ResourceName": r.resource_name,
                    "TagKey": r.tag_key,
                    "TagValue": r.tag_value,
                })
            })
            .collect();
        let mut body = json!({ "TagResources": items });
        if truncated && let Some(last) = selected.last() {
            set(
                &mut body,
                "NextToken",
                json!(format!("{}/{}", last.resource_name, last.tag_key)),
            );
        }
        Ok(body)
    })
}
