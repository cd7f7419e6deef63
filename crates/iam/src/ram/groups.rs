//! Groups and memberships.

use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture};
use cloudward_store::{GroupRecord, PrincipalKindRef};
use serde_json::{Value, json};

use super::{
    MAX_GROUPS, MAX_GROUPS_PER_USER, account, check_len, conflict, fetch_limit, list_body,
    user_by_name,
};
use crate::util::{
    self, Page, check_name, delete_conflict, entity_not_exist, limit_exceeded, optional, required,
};

/// `GroupName`: 1-64 letters, digits, `-`.
fn check_group_name(name: &str, code_prefix: &str) -> Result<(), ApiError> {
    check_name(name, 64, "-", code_prefix)
}

fn group_json(group: &GroupRecord) -> Value {
    json!({
        "GroupId": group.group_id,
        "GroupName": group.group_name,
        "Comments": group.comments,
        "CreateDate": util::iso8601(group.created_at_ms),
        "UpdateDate": util::iso8601(group.updated_at_ms),
    })
}

/// A group of the caller's account by name, or `EntityNotExist.Group`.
pub(super) async fn group_by_name(call: &Call<'_>, name: &str) -> Result<GroupRecord, ApiError> {
    call.state
        .store
        .get_group(account(call), name)
        .await
        .map_err(util::store_error)?
        .ok_or_else(|| entity_not_exist("Group", "The group does not exist."))
}

pub(super) fn create_group(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let name = required(call.params, "GroupName")?;
        check_group_name(name, "InvalidParameter.GroupName")?;
        let comments = optional(call.params, "Comments").unwrap_or("");
        check_len(comments, 128, "Comments")?;
        let now = util::now_ms(call.state);
        let group = GroupRecord {
            account_id: account(&call).to_owned(),
            group_id: util::new_numeric_id()?,
            group_name: name.to_owned(),
            comments: comments.to_owned(),
            created_at_ms: now,
            updated_at_ms: now,
        };
        let inserted = call
            .state
            .store
            .insert_group(&group, MAX_GROUPS)
            .await
            .map_err(|e| conflict(e, "Group", "The group does already EXIST."))?;
        if !inserted {
            return Err(limit_exceeded(
                "Group",
                format!("The count of groups beyond the current limits ({MAX_GROUPS})."),
            ));
        }
        Ok(json!({ "Group": group_json(&group) }))
    })
}

pub(super) fn get_group(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let group = group_by_name(&call, required(call.params, "GroupName")?).await?;
        Ok(json!({ "Group": group_json(&group) }))
    })
}

pub(super) fn update_group(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let mut group = group_by_name(&call, required(call.params, "GroupName")?).await?;
        if let Some(new_name) = optional(call.params, "NewGroupName") {
            check_group_name(new_name, "InvalidParameter.NewGroupName")?;
            new_name.clone_into(&mut group.group_name);
        }
        if let Some(comments) = optional(call.params, "NewComments") {
            check_len(comments, 128, "Comments")?;
            comments.clone_into(&mut group.comments);
        }
        group.updated_at_ms = util::now_ms(call.state);
        let found = call
            .state
            .store
            .update_group(&group)
            .await
            .map_err(|e| conflict(e, "Group", "The group does already EXIST."))?;
        if !found {
            return Err(entity_not_exist("Group", "The group does not exist."));
        }
        Ok(json!({ "Group": group_json(&group) }))
    })
}

pub(super) fn delete_group(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let group = group_by_name(&call, required(call.params, "GroupName")?).await?;
        let store = &call.state.store;
        let acct = account(&call);
        if store
            .group_member_count(acct, &group.group_id)
            .await
            .map_err(util::store_error)?
            > 0
        {
            return Err(delete_conflict(
                "Group.User",
                "The group CAN NOT have any user member while deleting the group.",
            ));
        }
        if !store
            .list_attachments(acct, PrincipalKindRef::Group, &group.group_id)
            .await
            .map_err(util::store_error)?
            .is_empty()
        {
            return Err(delete_conflict(
                "Group.Policy",
                "The group CAN NOT be attached with any policy while deleting the group.",
            ));
        }
        store
            .delete_group(acct, &group.group_id)
            .await
            .map_err(util::store_error)?;
        Ok(json!({}))
    })
}

pub(super) fn list_groups(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let page = Page::from_params(call.params)?;
        let rows = call
            .state
            .store
            .list_groups(account(&call), page.after.as_deref(), fetch_limit(&page))
            .await
            .map_err(util::store_error)?;
        let (rows, truncated, marker) = page.finish(rows, |g| g.group_name.clone());
        let items = rows.iter().map(group_json).collect();
        Ok(list_body("Groups", "Group", items, truncated, marker))
    })
}

pub(super) fn add_user_to_group(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let group = group_by_name(&call, required(call.params, "GroupName")?).await?;
        let user = user_by_name(&call, required(call.params, "UserName")?).await?;
        let added = call
            .state
            .store
            .add_user_to_group(
                account(&call),
                &group.group_id,
                &user.user_id,
                util::now_ms(call.state),
                MAX_GROUPS_PER_USER,
            )
            .await
            .map_err(|e| conflict(e, "User.Group", "The user has already been in the group."))?;
        if !added {
            return Err(limit_exceeded(
                "User.Group",
                format!("A user can join at most {MAX_GROUPS_PER_USER} groups."),
            ));
        }
        Ok(json!({}))
    })
}

pub(super) fn remove_user_from_group(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let group = group_by_name(&call, required(call.params, "GroupName")?).await?;
        let user = user_by_name(&call, required(call.params, "UserName")?).await?;
        let removed = call
            .state
            .store
            .remove_user_from_group(account(&call), &group.group_id, &user.user_id)
            .await
            .map_err(util::store_error)?;
        if !removed {
            return Err(entity_not_exist(
                "User.Group",
                "The user does not belong to the group.",
            ));
        }
        Ok(json!({}))
    })
}

pub(super) fn list_groups_for_user(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let user = user_by_name(&call, required(call.params, "UserName")?).await?;
        let rows = call
            .state
            .store
            .list_groups_for_user(account(&call), &user.user_id)
            .await
            .map_err(util::store_error)?;
        let items: Vec<Value> = rows
            .iter()
            .map(|m| {
                json!({
                    "GroupId": m.entity.group_id,
                    "GroupName": m.entity.group_name,
                    "Comments": m.entity.comments,
                    "JoinDate": util::iso8601(m.joined_at_ms),
                })
            })
            .collect();
        Ok(json!({ "Groups": { "Group": items } }))
    })
}

pub(super) fn list_users_for_group(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let group = group_by_name(&call, required(call.params, "GroupName")?).await?;
        let page = Page::from_params(call.params)?;
        let rows = call
            .state
            .store
            .list_users_for_group(
                account(&call),
                &group.group_id,
                page.after.as_deref(),
                fetch_limit(&page),
            )
            .await
            .map_err(util::store_error)?;
        let (rows, truncated, marker) = page.finish(rows, |m| m.entity.user_name.clone());
        let items = rows
            .iter()
            .map(|m| {
                json!({
                    "UserId": m.entity.user_id,
                    "UserName": m.entity.user_name,
                    "DisplayName": m.entity.display_name,
                    "JoinDate": util::iso8601(m.joined_at_ms),
                })
            })
            .collect();
        Ok(list_body("Users", "User", items, truncated, marker))
    })
}
