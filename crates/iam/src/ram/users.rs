//! `CreateUser`, `GetUser`, `UpdateUser`, `DeleteUser`, `ListUsers`.

use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture};
use cloudward_store::UserRecord;
use serde_json::{Value, json};

use super::{MAX_USERS, account, check_len, conflict, fetch_limit, list_body, set, user_by_name};
use crate::util::{
    self, Page, check_name, delete_conflict, invalid, limit_exceeded, optional, required,
};

/// `UserName`: 1-64 letters, digits, `.`, `_`, `-`.
pub(super) fn check_user_name(name: &str, code_prefix: &str) -> Result<(), ApiError> {
    check_name(name, 64, "._-", code_prefix)
}

fn check_display_name(name: &str, code_prefix: &str) -> Result<(), ApiError> {
    let len = name.chars().count();
    if len == 0 || len > 128 {
        return Err(invalid(
            &format!("{code_prefix}.Length"),
            "The display name must be 1 to 128 characters.",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(
            &format!("{code_prefix}.InvalidChars"),
            "The display name must not contain control characters.",
        ));
    }
    Ok(())
}

/// `<country code>-<number>`, e.g. `86-18600008888`.
fn check_mobile_phone(value: &str) -> Result<(), ApiError> {
    let ok = match value.split_once('-') {
        Some((cc, number)) => {
            (1..=4).contains(&cc.len())
                && (4..=16).contains(&number.len())
                && cc.bytes().all(|b| b.is_ascii_digit())
                && number.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "InvalidParameter.MobilePhone.Format",
            "The parameter MobilePhone must look like <country code>-<number>, e.g. 86-18600008888.",
        ))
    }
}

fn check_email(value: &str) -> Result<(), ApiError> {
    let ok = value.len() <= 128
        && match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !value.chars().any(|c| c.is_whitespace() || c.is_control())
                    && !domain.contains('@')
            }
            None => false,
        };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "InvalidParameter.Email.Format",
            "The parameter Email is not a valid email address.",
        ))
    }
}

/// The `User` object of Get/Create/UpdateUser.
pub(super) fn user_json(user: &UserRecord) -> Value {
    let mut out = json!({
        "UserId": user.user_id,
        "UserName": user.user_name,
        "DisplayName": user.display_name,
        "MobilePhone": user.mobile_phone,
        "Email": user.email,
        "Comments": user.comments,
        "CreateDate": util::iso8601(user.created_at_ms),
        "UpdateDate": util::iso8601(user.updated_at_ms),
    });
    if let Some(at) = user.last_login_at_ms {
        set(&mut out, "LastLoginDate", json!(util::iso8601(at)));
    }
    out
}

pub(super) fn create_user(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let p = call.params;
        let name = required(p, "UserName")?;
        check_user_name(name, "InvalidParameter.UserName")?;
        let display_name = optional(p, "DisplayName").unwrap_or(name);
        check_display_name(display_name, "InvalidParameter.DisplayName")?;
        let mobile_phone = optional(p, "MobilePhone").unwrap_or("");
        if !mobile_phone.is_empty() {
            check_mobile_phone(mobile_phone)?;
        }
        let email = optional(p, "Email").unwrap_or("");
        if !email.is_empty() {
            check_email(email)?;
        }
        let comments = optional(p, "Comments").unwrap_or("");
        check_len(comments, 128, "Comments")?;
        let now = util::now_ms(call.state);
        let user = UserRecord {
            account_id: account(&call).to_owned(),
            user_id: util::new_numeric_id()?,
            user_name: name.to_owned(),
            display_name: display_name.to_owned(),
            mobile_phone: mobile_phone.to_owned(),
            email: email.to_owned(),
            comments: comments.to_owned(),
            created_at_ms: now,
            updated_at_ms: now,
            last_login_at_ms: None,
        };
        let inserted = call
            .state
            .store
            .insert_user(&user, MAX_USERS)
            .await
            .map_err(|e| conflict(e, "User", "The user does already EXIST."))?;
        if !inserted {
            return Err(limit_exceeded(
                "User",
                format!("The count of users beyond the current limits ({MAX_USERS})."),
            ));
        }
        Ok(json!({ "User": user_json(&user) }))
    })
}

pub(super) fn get_user(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let user = user_by_name(&call, required(call.params, "UserName")?).await?;
        Ok(json!({ "User": user_json(&user) }))
    })
}

pub(super) fn update_user(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let p = call.params;
        let mut user = user_by_name(&call, required(p, "UserName")?).await?;
        if let Some(new_name) = optional(p, "NewUserName") {
            check_user_name(new_name, "InvalidParameter.NewUserName")?;
            new_name.clone_into(&mut user.user_name);
        }
        if let Some(v) = optional(p, "NewDisplayName") {
            check_display_name(v, "InvalidParameter.NewDisplayName")?;
            v.clone_into(&mut user.display_name);
        }
        if let Some(v) = optional(p, "NewMobilePhone") {
            check_mobile_phone(v)?;
            v.clone_into(&mut user.mobile_phone);
        }
        if let Some(v) = optional(p, "NewEmail") {
            check_email(v)?;
            v.clone_into(&mut user.email);
        }
        if let Some(v) = optional(p, "NewComments") {
            check_len(v, 128, "Comments")?;
            v.clone_into(&mut user.comments);
        }
        user.updated_at_ms = util::now_ms(call.state);
        let found = call
            .state
            .store
            .update_user(&user)
            .await
            .map_err(|e| conflict(e, "User", "The user does already EXIST."))?;
        if !found {
            return Err(util::entity_not_exist("User", "The user does not exist."));
        }
        Ok(json!({ "User": user_json(&user) }))
    })
}

pub(super) fn delete_user(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let user = user_by_name(&call, required(call.params, "UserName")?).await?;
        let deps = call
            .state
            .store
            .user_dependents(account(&call), &user.user_id)
            .await
            .map_err(util::store_error)?;
        if deps.access_keys > 0 {
            return Err(delete_conflict(
                "User.AccessKey",
                "The user CAN NOT has any access key while deleting the user.",
            ));
        }
        if deps.groups > 0 {
            return Err(delete_conflict(
                "User.Group",
                "The user CAN NOT belong to any group while deleting the user.",
            ));
        }
        if deps.policies > 0 {
            return Err(delete_conflict(
                "User.Policy",
                "The user CAN NOT be attached with any policy while deleting the user.",
            ));
        }
        if deps.login_profile {
            return Err(delete_conflict(
                "User.LoginProfile",
                "The user CAN NOT have a login profile while deleting the user.",
            ));
        }
        if deps.mfa_device {
            return Err(delete_conflict(
                "User.MFADevice",
                "The user CAN NOT be bound to any MFA device while deleting the user.",
            ));
        }
        call.state
            .store
            .delete_user(account(&call), &user.user_id)
            .await
            .map_err(util::store_error)?;
        Ok(json!({}))
    })
}

pub(super) fn list_users(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let page = Page::from_params(call.params)?;
        let rows = call
            .state
            .store
            .list_users(account(&call), page.after.as_deref(), fetch_limit(&page))
            .await
            .map_err(util::store_error)?;
        let (rows, truncated, marker) = page.finish(rows, |u| u.user_name.clone());
        let items = rows.iter().map(user_json).collect();
        Ok(list_body("Users", "User", items, truncated, marker))
    })
}
