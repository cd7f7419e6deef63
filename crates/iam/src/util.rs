//! Shared helpers for identity-service handlers: parameter access and validation, the
//! RAM error catalogue, pagination, timestamps and ids. Use these instead of writing
//! local variants, so every action reports errors the same way.

use cloudward_protocol::ApiError;
use cloudward_service::{Params, Principal};

/// `MissingParameter` for a required parameter.
pub fn missing(name: &str) -> ApiError {
    ApiError::new(
        "MissingParameter",
        400,
        format!(
            "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
        ),
    )
}

/// `InvalidParameter[.<suffix>]` with a message.
pub fn invalid(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(code, 400, message)
}

/// `EntityNotExist.<what>` (404), e.g. `entity_not_exist("User", "The user does not exist.")`.
pub fn entity_not_exist(what: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(format!("EntityNotExist.{what}"), 404, message)
}

/// `EntityAlreadyExists.<what>` (409).
pub fn entity_already_exists(what: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(format!("EntityAlreadyExists.{what}"), 409, message)
}

/// `DeleteConflict.<what>` (409).
pub fn delete_conflict(what: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(format!("DeleteConflict.{what}"), 409, message)
}

/// `LimitExceeded.<what>` (409).
pub fn limit_exceeded(what: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(format!("LimitExceeded.{what}"), 409, message)
}

/// Storage failures: logged with detail, answered with a generic 500.
pub fn store_error(err: cloudward_store::StoreError) -> ApiError {
    tracing::error!(error = %err, "store operation failed");
    ApiError::internal()
}

/// A required, non-empty parameter.
pub fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, ApiError> {
    match params.get(name) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(missing(name)),
    }
}

/// An optional parameter (empty counts as absent).
pub fn optional<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

/// An optional integer parameter within `[min, max]`; `code` is the error code to use.
pub fn optional_int(
    params: &Params,
    name: &str,
    min: i64,
    max: i64,
    code: &str,
) -> Result<Option<i64>, ApiError> {
    match optional(params, name) {
        None => Ok(None),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(invalid(
                code,
                format!("The parameter {name} must be an integer from {min} to {max}."),
            )),
        },
    }
}

/// An optional boolean parameter (`true`/`false`, any case).
pub fn optional_bool(params: &Params, name: &str) -> Result<Option<bool>, ApiError> {
    match optional(params, name) {
        None => Ok(None),
        Some(text) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(text) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(invalid(
            "InvalidParameter",
            format!("The parameter {name} must be true or false."),
        )),
    }
}

/// Checks a name: `1..=max` characters from letters, digits and `extra`.
pub fn check_name(value: &str, max: usize, extra: &str, code_prefix: &str) -> Result<(), ApiError> {
    let len = value.chars().count();
    if len == 0 || len > max {
        return Err(invalid(
            &format!("{code_prefix}.Length"),
            format!("The length of the name must be 1 to {max} characters."),
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    {
        return Err(invalid(
            &format!("{code_prefix}.InvalidChars"),
            format!("The name may contain only letters, digits and \"{extra}\"."),
        ));
    }
    Ok(())
}

/// Pagination as RAM does it: `Marker` (opaque, from the previous page) and `MaxItems`
/// (1..=1000, default 100). The marker is the sort key of the last item returned.
#[derive(Debug, Clone)]
pub struct Page {
    /// Continue after this key (exclusive), if any.
    pub after: Option<String>,
    /// Page size.
    pub max_items: usize,
}

impl Page {
    /// Reads `Marker` / `MaxItems`.
    pub fn from_params(params: &Params) -> Result<Self, ApiError> {
        let max_items =
            optional_int(params, "MaxItems", 1, 1000, "InvalidParameter.MaxItems")?.unwrap_or(100);
        Ok(Self {
            after: optional(params, "Marker").map(str::to_owned),
            max_items: usize::try_from(max_items).unwrap_or(100),
        })
    }

    /// Cuts a list fetched with `max_items + 1` rows into a page; returns the rows, whether
    /// there are more, and the marker for the next page.
    pub fn finish<T>(
        &self,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> String,
    ) -> (Vec<T>, bool, Option<String>) {
        let truncated = rows.len() > self.max_items;
        rows.truncate(self.max_items);
        let marker = if truncated {
            rows.last().map(key)
        } else {
            None
        };
        (rows, truncated, marker)
    }
}

/// Formats milliseconds since the epoch as Alibaba's `yyyy-MM-ddTHH:mm:ssZ`.
pub fn iso8601(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    cloudward_protocol::format_timestamp(t)
}

/// Now, from the service clock, in ms since the epoch.
pub fn now_ms(state: &cloudward_service::ServiceState) -> i64 {
    let now = state.clock.now();
    i64::try_from((now - time::OffsetDateTime::UNIX_EPOCH).whole_milliseconds()).unwrap_or(0)
}

/// A new numeric id (users, roles, groups...): 16-19 digits, like Alibaba's.
pub fn new_numeric_id() -> Result<String, ApiError> {
    let bytes = cloudward_service::random_bytes::<8>().map_err(|_| ApiError::internal())?;
    let n = u64::from_be_bytes(bytes) % 9_000_000_000_000_000_000 + 1_000_000_000_000_000_000;
    Ok(n.to_string())
}

/// The caller's account id (every query is scoped by it).
pub fn account(principal: &Principal) -> &str {
    &principal.account_id
}

/// `acs:ram::<account>:<relative>` for the caller's account.
pub fn ram_arn(principal: &Principal, relative: &str) -> String {
    format!("acs:ram::{}:{relative}", principal.account_id)
}
