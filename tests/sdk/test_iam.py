#!/usr/bin/env python3
"""Official Alibaba Cloud Python SDKs against a running Cloudward server: RAM and STS.

A plain script (no pytest), one printed line per check, non-zero exit if anything failed
(known failures included; see `test_iam_common.py`). `crates/cli/tests/sdk_iam.rs` starts
the server and runs it; by hand:

    CLOUDWARD_TEST_ENDPOINT=127.0.0.1:18080 CLOUDWARD_TEST_ACCOUNT_ID=<16 digits> \
    CLOUDWARD_TEST_ACCESS_KEY_ID=LTAI... CLOUDWARD_TEST_ACCESS_KEY_SECRET=... \
    python tests/sdk/test_iam.py

Scenarios (the account root signs with V3 by default, some calls repeat with V2):
  1. RAM lifecycle as the root: users, groups, roles, custom policies with versions,
     attachments, pagination, tags, AccessKeys and their last use, deletion order.
  2. A RAM user with a narrow policy: allowed calls succeed, denied ones raise NoPermission
     (HTTP 403) with AccessDeniedDetail.
  3. STS: a user assumes a role; the session through the STS SDK (V3 and V2) and the classic
     core; the session can do what the role allows and nothing else; session policies;
     ExternalId; DurationSeconds bounds; trust and RoleArn errors.
"""

import json
import re
import sys
import time
from datetime import datetime, timezone

from test_iam_common import (  # noqa: E402
    ACCOUNT, AK_ID, AK_SECRET, KNOWN_FAILURES, allow, check, classic_caller_identity, deny, doc,
    expect, expect_error, finish, ok, ram, ram_models, raw_call, session_ram, session_sts, sts,
    sts_models, trust,
)

# Known failures: check name -> bug reference (see the final report of the session that wrote
# this file). Keep it empty when everything passes.
KNOWN_FAILURES.update({
})

root = ram()
root_v2 = ram(algorithm="v2")
state = {}


def parse_iso(text):
    expect(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text or ""), f"not yyyy-MM-ddTHH:mm:ssZ: {text!r}")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def same_doc(a, b):
    return json.loads(a) == json.loads(b)


# =============================================================== 1. RAM lifecycle as root

print("== scenario 1: RAM lifecycle as the account root", flush=True)


def create_users():
    body = ok(root.create_user(ram_models.CreateUserRequest(
        user_name="alice", display_name="Alice A", comments="sdk test user")))
    u = body.user
    expect(u.user_name == "alice" and u.display_name == "Alice A", f"user {u.to_map()}")
    expect(bool(u.user_id), "no UserId")
    parse_iso(u.create_date)
    state["alice_id"] = u.user_id
    # bob through V2 (HMAC-SHA1 RPC) signing
    body = ok(root_v2.create_user(ram_models.CreateUserRequest(user_name="bob", display_name="Bob")))
    expect(body.user.user_name == "bob", f"user {body.user.to_map()}")
    for i in range(5):
        ok(root.create_user(ram_models.CreateUserRequest(user_name=f"page-user-{i}")))
    return f"alice={u.user_id}, bob (v2), page-user-0..4"


check("CreateUser x7 (V3 and V2)", create_users)

check("CreateUser duplicate -> EntityAlreadyExists.User 409",
      lambda: expect_error(lambda: root.create_user(ram_models.CreateUserRequest(user_name="alice")),
                           "EntityAlreadyExists.User", 409))


def get_user_v2():
    u = ok(root_v2.get_user(ram_models.GetUserRequest(user_name="alice"))).user
    expect(u.user_id == state["alice_id"] and u.comments == "sdk test user", f"user {u.to_map()}")
    return f"UserId={u.user_id}"


check("GetUser (V2)", get_user_v2)


def list_users_paginated():
    names, marker, pages = [], None, 0
    while True:
        body = ok(root.list_users(ram_models.ListUsersRequest(max_items=3, marker=marker)))
        page = [u.user_name for u in body.users.user]
        pages += 1
        expect(len(page) <= 3, f"page of {len(page)} > MaxItems 3")
        names += page
        if not body.is_truncated:
            break
        expect(bool(body.marker), "IsTruncated without Marker")
        expect(len(page) == 3, f"a truncated page with {len(page)} < 3 items")
        marker = body.marker
        expect(pages < 10, "pagination does not end")
    expected = {"alice", "bob"} | {f"page-user-{i}" for i in range(5)}
    expect(len(names) == len(set(names)), f"duplicates across pages: {names}")
    expect(set(names) == expected, f"users {sorted(names)} != {sorted(expected)}")
    expect(pages == 3, f"{pages} pages for 7 users with MaxItems=3")
    return f"{pages} pages: {names}"


check("ListUsers MaxItems=3 / Marker / IsTruncated", list_users_paginated)


def list_users_v2_first_page():
    body = ok(root_v2.list_users(ram_models.ListUsersRequest(max_items=5)))
    expect(body.is_truncated is True and body.marker, f"IsTruncated={body.is_truncated} Marker={body.marker}")
    expect(len(body.users.user) == 5, f"{len(body.users.user)} users")
    return f"Marker={body.marker}"


check("ListUsers MaxItems=5 (V2)", list_users_v2_first_page)

check("ListUsers MaxItems=0 -> InvalidParameter.MaxItems 400",
      lambda: expect_error(lambda: root.list_users(ram_models.ListUsersRequest(max_items=0)),
                           "InvalidParameter.MaxItems", 400))


def groups():
    g = ok(root.create_group(ram_models.CreateGroupRequest(group_name="devs", comments="developers"))).group
    expect(g.group_name == "devs" and g.group_id, f"group {g.to_map()}")
    ok(root.add_user_to_group(ram_models.AddUserToGroupRequest(user_name="alice", group_name="devs")))
    ok(root_v2.create_group(ram_models.CreateGroupRequest(group_name="ops")))
    in_groups = [x.group_name for x in ok(root.list_groups_for_user(
        ram_models.ListGroupsForUserRequest(user_name="alice"))).groups.group]
    expect(in_groups == ["devs"], f"ListGroupsForUser alice = {in_groups}")
    members = [x.user_name for x in ok(root.list_users_for_group(
        ram_models.ListUsersForGroupRequest(group_name="devs"))).users.user]
    expect(members == ["alice"], f"ListUsersForGroup devs = {members}")
    body = ok(root.list_groups(ram_models.ListGroupsRequest(max_items=1)))
    expect(body.is_truncated and body.marker and len(body.groups.group) == 1,
           f"ListGroups MaxItems=1: {body.to_map()}")
    body2 = ok(root.list_groups(ram_models.ListGroupsRequest(max_items=1, marker=body.marker)))
    both = {body.groups.group[0].group_name, body2.groups.group[0].group_name}
    expect(both == {"devs", "ops"} and not body2.is_truncated, f"ListGroups pages: {both}, {body2.to_map()}")
    return "devs (alice), ops; ListGroups paginated"


check("CreateGroup / AddUserToGroup / ListGroupsForUser / ListUsersForGroup / ListGroups paging", groups)

DOC_V1 = doc(allow(["ram:GetUser"], f"acs:ram:*:{ACCOUNT}:user/*"))
DOC_V2 = doc(allow(["ram:GetUser", "ram:ListUsers"]))


def custom_policy_versions():
    p = ok(root.create_policy(ram_models.CreatePolicyRequest(
        policy_name="cw-read", policy_document=DOC_V1, description="read users"))).policy
    expect(p.policy_name == "cw-read" and p.policy_type == "Custom" and p.default_version == "v1",
           f"policy {p.to_map()}")
    v = ok(root.create_policy_version(ram_models.CreatePolicyVersionRequest(
        policy_name="cw-read", policy_document=DOC_V2, set_as_default=False))).policy_version
    expect(v.version_id == "v2" and v.is_default_version is False, f"version {v.to_map()}")
    versions = ok(root.list_policy_versions(ram_models.ListPolicyVersionsRequest(
        policy_name="cw-read", policy_type="Custom"))).policy_versions.policy_version
    defaults = {x.version_id: x.is_default_version for x in versions}
    expect(defaults == {"v1": True, "v2": False}, f"versions {defaults}")
    ok(root.set_default_policy_version(ram_models.SetDefaultPolicyVersionRequest(
        policy_name="cw-read", version_id="v2")))
    body = ok(root.get_policy(ram_models.GetPolicyRequest(policy_name="cw-read", policy_type="Custom")))
    expect(body.policy.default_version == "v2", f"DefaultVersion {body.policy.default_version}")
    dpv = body.default_policy_version
    expect(dpv is not None and dpv.version_id == "v2" and dpv.is_default_version,
           f"DefaultPolicyVersion {dpv and dpv.to_map()}")
    expect(same_doc(dpv.policy_document, DOC_V2), f"default document {dpv.policy_document}")
    pv1 = ok(root_v2.get_policy_version(ram_models.GetPolicyVersionRequest(
        policy_name="cw-read", policy_type="Custom", version_id="v1"))).policy_version
    expect(same_doc(pv1.policy_document, DOC_V1) and pv1.is_default_version is False, f"v1 {pv1.to_map()}")
    return "v1 -> v2 default"


check("CreatePolicy / CreatePolicyVersion / SetDefaultPolicyVersion / GetPolicy", custom_policy_versions)

check("CreatePolicy malformed document -> MalformedPolicyDocument 400",
      lambda: expect_error(lambda: root.create_policy(ram_models.CreatePolicyRequest(
          policy_name="bad", policy_document='{"Version":"1","Statement":[{"Effect":"Maybe"}]}')),
          "MalformedPolicyDocument", 400))

ROLE_TRUST = trust()


def roles():
    r = ok(root.create_role(ram_models.CreateRoleRequest(
        role_name="app-role", assume_role_policy_document=ROLE_TRUST, description="app",
        max_session_duration=7200))).role
    expect(r.role_name == "app-role" and r.role_id, f"role {r.to_map()}")
    expect(r.arn == f"acs:ram::{ACCOUNT}:role/app-role", f"Arn {r.arn}")
    got = ok(root_v2.get_role(ram_models.GetRoleRequest(role_name="app-role"))).role
    expect(got.max_session_duration == 7200, f"MaxSessionDuration {got.max_session_duration}")
    expect(same_doc(got.assume_role_policy_document, ROLE_TRUST), f"trust {got.assume_role_policy_document}")
    expect(got.description == "app", f"Description {got.description}")
    return f"RoleId={r.role_id}, Arn={r.arn}"


check("CreateRole (trust policy, MaxSessionDuration=7200) / GetRole (V2)", roles)

check("CreateRole MaxSessionDuration=3599 -> InvalidParameter.MaxSessionDuration 400",
      lambda: expect_error(lambda: root.create_role(ram_models.CreateRoleRequest(
          role_name="short-role", assume_role_policy_document=ROLE_TRUST, max_session_duration=3599)),
          "InvalidParameter.MaxSessionDuration", 400))


def attachments():
    ok(root.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
        policy_type="System", policy_name="ReadOnlyAccess", user_name="alice")))
    ok(root.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
        policy_type="Custom", policy_name="cw-read", user_name="alice")))
    ok(root.attach_policy_to_group(ram_models.AttachPolicyToGroupRequest(
        policy_type="Custom", policy_name="cw-read", group_name="devs")))
    ok(root_v2.attach_policy_to_group(ram_models.AttachPolicyToGroupRequest(
        policy_type="System", policy_name="AliyunRAMReadOnlyAccess", group_name="devs")))
    ok(root.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
        policy_type="System", policy_name="AliyunRAMReadOnlyAccess", role_name="app-role")))
    ok(root.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
        policy_type="Custom", policy_name="cw-read", role_name="app-role")))
    for_user = {(p.policy_name, p.policy_type) for p in ok(root.list_policies_for_user(
        ram_models.ListPoliciesForUserRequest(user_name="alice"))).policies.policy}
    expect(for_user == {("ReadOnlyAccess", "System"), ("cw-read", "Custom")}, f"user policies {for_user}")
    for_group = {(p.policy_name, p.policy_type) for p in ok(root.list_policies_for_group(
        ram_models.ListPoliciesForGroupRequest(group_name="devs"))).policies.policy}
    expect(for_group == {("AliyunRAMReadOnlyAccess", "System"), ("cw-read", "Custom")},
           f"group policies {for_group}")
    for_role = {(p.policy_name, p.policy_type) for p in ok(root_v2.list_policies_for_role(
        ram_models.ListPoliciesForRoleRequest(role_name="app-role"))).policies.policy}
    expect(for_role == {("AliyunRAMReadOnlyAccess", "System"), ("cw-read", "Custom")},
           f"role policies {for_role}")
    ent = ok(root.list_entities_for_policy(ram_models.ListEntitiesForPolicyRequest(
        policy_name="cw-read", policy_type="Custom")))
    got = ([u.user_name for u in ent.users.user], [g.group_name for g in ent.groups.group],
           [r.role_name for r in ent.roles.role])
    expect(got == (["alice"], ["devs"], ["app-role"]), f"ListEntitiesForPolicy {got}")
    p = ok(root.get_policy(ram_models.GetPolicyRequest(policy_name="cw-read", policy_type="Custom"))).policy
    expect(p.attachment_count == 3, f"AttachmentCount {p.attachment_count}")
    return "system + custom on user, group, role; AttachmentCount=3"


check("AttachPolicyToUser/Group/Role (System + Custom) / ListPoliciesFor* / ListEntitiesForPolicy",
      attachments)

check("AttachPolicyToUser twice -> EntityAlreadyExists.User.Policy 409",
      lambda: expect_error(lambda: root.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
          policy_type="System", policy_name="ReadOnlyAccess", user_name="alice")),
          "EntityAlreadyExists.User.Policy", 409))


def list_policies_paginated():
    names, marker, pages = [], None, 0
    while True:
        body = ok(root.list_policies(ram_models.ListPoliciesRequest(
            policy_type="System", max_items=4, marker=marker)))
        names += [p.policy_name for p in body.policies.policy]
        pages += 1
        if not body.is_truncated:
            break
        expect(bool(body.marker), "IsTruncated without Marker")
        marker = body.marker
        expect(pages < 100, "pagination does not end")
    expect(len(names) == len(set(names)), "duplicates across pages")
    expect({"ReadOnlyAccess", "AdministratorAccess", "AliyunRAMReadOnlyAccess"} <= set(names),
           f"system policies {names}")
    expect(pages >= 2, f"{len(names)} system policies fit in one page of 4?")
    return f"{len(names)} system policies in {pages} pages"


check("ListPolicies PolicyType=System MaxItems=4 / Marker", list_policies_paginated)


def tags():
    ok(root.tag_resources(ram_models.TagResourcesRequest(
        resource_type="user", resource_names=["alice"],
        tag=[ram_models.TagResourcesRequestTag(key="env", value="test"),
             ram_models.TagResourcesRequestTag(key="team", value="sec")])))
    body = ok(root.list_tag_resources(ram_models.ListTagResourcesRequest(
        resource_type="user", resource_names=["alice"])))
    got = {(t.resource_name, t.tag_key, t.tag_value) for t in body.tag_resources}
    expect(got == {("alice", "env", "test"), ("alice", "team", "sec")}, f"tags {got}")
    ok(root.untag_resources(ram_models.UntagResourcesRequest(
        resource_type="user", resource_names=["alice"], tag_keys=["team"])))
    body = ok(root_v2.list_tag_resources(ram_models.ListTagResourcesRequest(
        resource_type="user", resource_names=["alice"])))
    got = {(t.resource_name, t.tag_key, t.tag_value) for t in body.tag_resources}
    expect(got == {("alice", "env", "test")}, f"tags after untag {got}")
    return "env=test (team untagged)"


check("TagResources / ListTagResources / UntagResources on a user", tags)


def access_key():
    k = ok(root.create_access_key(ram_models.CreateAccessKeyRequest(user_name="alice"))).access_key
    expect(re.fullmatch(r"LTAI[0-9A-Za-z]{20}", k.access_key_id or ""), f"AccessKeyId {k.access_key_id!r}")
    expect(k.access_key_secret and len(k.access_key_secret) == 30, "AccessKeySecret missing / not 30 chars")
    expect(k.status == "Active", f"Status {k.status}")
    parse_iso(k.create_date)
    state["alice_key"] = (k.access_key_id, k.access_key_secret)
    keys = ok(root.list_access_keys(ram_models.ListAccessKeysRequest(user_name="alice"))).access_keys.access_key
    expect([x.access_key_id for x in keys] == [k.access_key_id], f"ListAccessKeys {[x.to_map() for x in keys]}")
    raw = raw_call(root, "ListAccessKeys", "2015-05-01", {"UserName": "alice"})
    text = json.dumps(raw)
    expect("AccessKeySecret" not in text and k.access_key_secret not in text, f"ListAccessKeys leaks: {text}")
    return f"{k.access_key_id}; ListAccessKeys raw body has no secret"


check("CreateAccessKey (secret once) / ListAccessKeys (no secret)", access_key)


def last_used():
    key_id, secret = state["alice_key"]
    before = ok(root.get_access_key_last_used(ram_models.GetAccessKeyLastUsedRequest(
        user_name="alice", user_access_key_id=key_id))).access_key_last_used
    expect(not (before and before.last_used_date), f"LastUsedDate before any use: {before and before.to_map()}")
    # alice (ReadOnlyAccess) makes a call with her key
    me = ok(ram(key_id, secret).get_user(ram_models.GetUserRequest(user_name="alice"))).user
    expect(me.user_name == "alice", f"GetUser as alice {me.to_map()}")
    for _ in range(10):  # allow for a batched write-behind of the last use
        after = ok(root.get_access_key_last_used(ram_models.GetAccessKeyLastUsedRequest(
            user_name="alice", user_access_key_id=key_id))).access_key_last_used
        if after and after.last_used_date:
            break
        time.sleep(0.5)
    expect(after and after.last_used_date, f"no LastUsedDate 5 s after the key was used: {after and after.to_map()}")
    when = parse_iso(after.last_used_date)
    skew = abs((datetime.now(timezone.utc) - when).total_seconds())
    expect(skew < 300, f"LastUsedDate {after.last_used_date} is {skew:.0f} s from now")
    return f"before: none; after: {after.last_used_date}"


check("GetAccessKeyLastUsed before / after the user's call", last_used)


def user_key_identity():
    key_id, secret = state["alice_key"]
    body = ok(sts(key_id, secret).get_caller_identity())
    expect(body.identity_type == "RAMUser" and body.user_id == state["alice_id"], f"{body.to_map()}")
    expect(body.arn == f"acs:ram::{ACCOUNT}:user/alice", f"Arn {body.arn}")
    expect(body.account_id == ACCOUNT, f"AccountId {body.account_id}")
    return body.arn


check("GetCallerIdentity with the user's AccessKey", user_key_identity)


def delete_in_order():
    key_id, _ = state["alice_key"]
    steps = []

    def conflict(call, code):
        steps.append(expect_error(call, code, 409).split(" HTTP")[0].split(" ", 1)[1])

    del_alice = lambda: root.delete_user(ram_models.DeleteUserRequest(user_name="alice"))  # noqa: E731
    conflict(del_alice, "DeleteConflict.User.AccessKey")
    ok(root.delete_access_key(ram_models.DeleteAccessKeyRequest(user_name="alice", user_access_key_id=key_id)))
    conflict(del_alice, "DeleteConflict.User.Group")
    ok(root.remove_user_from_group(ram_models.RemoveUserFromGroupRequest(user_name="alice", group_name="devs")))
    conflict(del_alice, "DeleteConflict.User.Policy")
    for name, kind in (("ReadOnlyAccess", "System"), ("cw-read", "Custom")):
        ok(root.detach_policy_from_user(ram_models.DetachPolicyFromUserRequest(
            policy_type=kind, policy_name=name, user_name="alice")))
    ok(del_alice())
    steps.append("DeleteUser ok")

    del_devs = lambda: root.delete_group(ram_models.DeleteGroupRequest(group_name="devs"))  # noqa: E731
    conflict(del_devs, "DeleteConflict.Group.Policy")
    for name, kind in (("AliyunRAMReadOnlyAccess", "System"), ("cw-read", "Custom")):
        ok(root.detach_policy_from_group(ram_models.DetachPolicyFromGroupRequest(
            policy_type=kind, policy_name=name, group_name="devs")))
    ok(del_devs())
    steps.append("DeleteGroup ok")

    del_policy = lambda: root.delete_policy(ram_models.DeletePolicyRequest(policy_name="cw-read"))  # noqa: E731
    conflict(del_policy, "DeleteConflict.Policy.Role")
    del_role = lambda: root.delete_role(ram_models.DeleteRoleRequest(role_name="app-role"))  # noqa: E731
    conflict(del_role, "DeleteConflict.Role.Policy")
    for name, kind in (("AliyunRAMReadOnlyAccess", "System"), ("cw-read", "Custom")):
        ok(root_v2.detach_policy_from_role(ram_models.DetachPolicyFromRoleRequest(
            policy_type=kind, policy_name=name, role_name="app-role")))
    ok(del_role())
    steps.append("DeleteRole ok")

    conflict(del_policy, "DeleteConflict.Policy.Version")
    conflict(lambda: root.delete_policy_version(ram_models.DeletePolicyVersionRequest(
        policy_name="cw-read", version_id="v2")), "DeleteConflict.Policy.Version.Default")
    ok(root.delete_policy_version(ram_models.DeletePolicyVersionRequest(policy_name="cw-read", version_id="v1")))
    ok(del_policy())
    steps.append("DeletePolicy ok")

    for what, call, code in (
        ("user", lambda: root.get_user(ram_models.GetUserRequest(user_name="alice")), "EntityNotExist.User"),
        ("group", lambda: root.get_group(ram_models.GetGroupRequest(group_name="devs")), "EntityNotExist.Group"),
        ("role", lambda: root.get_role(ram_models.GetRoleRequest(role_name="app-role")), "EntityNotExist.Role"),
        ("policy", lambda: root.get_policy(ram_models.GetPolicyRequest(policy_name="cw-read", policy_type="Custom")),
         "EntityNotExist.Policy"),
    ):
        expect_error(call, code, 404)
    steps.append("all gone (404)")
    return " -> ".join(steps)


def inactive_key():
    key_id, secret = state["alice_key"]
    ok(root.update_access_key(ram_models.UpdateAccessKeyRequest(
        user_name="alice", user_access_key_id=key_id, status="Inactive")))
    keys = ok(root.list_access_keys(ram_models.ListAccessKeysRequest(user_name="alice"))).access_keys.access_key
    expect([k.status for k in keys] == ["Inactive"], f"statuses {[k.to_map() for k in keys]}")
    line = expect_error(lambda: ram(key_id, secret).get_user(ram_models.GetUserRequest(user_name="alice")),
                        "InvalidAccessKeyId.Inactive", 403)
    ok(root_v2.update_access_key(ram_models.UpdateAccessKeyRequest(
        user_name="alice", user_access_key_id=key_id, status="Active")))
    ok(ram(key_id, secret).get_user(ram_models.GetUserRequest(user_name="alice")))
    return line + "; Active again -> works"


check("UpdateAccessKey Inactive -> the key is refused (InvalidAccessKeyId.Inactive 403), Active -> works",
      inactive_key)

check("delete in order: DeleteConflict.* (409) first, then success", delete_in_order)

# =============================================================== 2. a RAM user with a narrow policy

print("\n== scenario 2: a RAM user with a narrow policy", flush=True)


def narrow_setup():
    ok(root.create_user(ram_models.CreateUserRequest(user_name="narrow")))
    ok(root.create_policy(ram_models.CreatePolicyRequest(
        policy_name="narrow-self", policy_document=doc(
            allow("ram:GetUser", f"acs:ram:*:{ACCOUNT}:user/narrow"),
            allow("ram:ListUsers")))))
    ok(root.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
        policy_type="Custom", policy_name="narrow-self", user_name="narrow")))
    k = ok(root.create_access_key(ram_models.CreateAccessKeyRequest(user_name="narrow"))).access_key
    state["narrow"] = (k.access_key_id, k.access_key_secret)
    return f"narrow: ram:GetUser on its own ARN + ram:ListUsers, key {k.access_key_id}"


check("set up user 'narrow' (GetUser on itself, ListUsers)", narrow_setup)


def narrow_client(algorithm=None):
    key_id, secret = state["narrow"]
    return ram(key_id, secret, algorithm=algorithm)


def narrow_allowed():
    me = ok(narrow_client().get_user(ram_models.GetUserRequest(user_name="narrow"))).user
    expect(me.user_name == "narrow", f"{me.to_map()}")
    users = [u.user_name for u in ok(narrow_client("v2").list_users(ram_models.ListUsersRequest())).users.user]
    expect("narrow" in users and "bob" in users, f"ListUsers {users}")
    return f"GetUser(narrow), ListUsers (v2) -> {len(users)} users"


check("narrow user: allowed calls succeed (V3, V2)", narrow_allowed)

NARROW_DETAIL = {"AuthPrincipalType": "SubUser", "AuthPrincipalOwnerId": ACCOUNT,
                 "AuthPrincipalDisplayName": "narrow", "NoPermissionType": "ImplicitDeny",
                 "PolicyType": "AccountLevelIdentityBasedPolicy"}

check("narrow user: CreateUser -> NoPermission 403 + AccessDeniedDetail",
      lambda: expect_error(lambda: narrow_client().create_user(ram_models.CreateUserRequest(user_name="evil")),
                           "NoPermission", 403, dict(NARROW_DETAIL, AuthAction="ram:CreateUser")))
check("narrow user: GetUser on another user (resource not allowed) -> NoPermission 403",
      lambda: expect_error(lambda: narrow_client("v2").get_user(ram_models.GetUserRequest(user_name="bob")),
                           "NoPermission", 403, dict(NARROW_DETAIL, AuthAction="ram:GetUser")))
check("narrow user: AttachPolicyToUser on itself (privilege escalation) -> NoPermission 403",
      lambda: expect_error(lambda: narrow_client().attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
          policy_type="System", policy_name="AdministratorAccess", user_name="narrow")),
          "NoPermission", 403, dict(NARROW_DETAIL, AuthAction="ram:AttachPolicyToUser")))


def narrow_classic_denied():
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from test_iam_common import HOST, PORT
    key_id, secret = state["narrow"]
    client = AcsClient(key_id, secret, "cn-hangzhou", port=int(PORT), auto_retry=False, max_retry_time=0,
                       timeout=15, connect_timeout=5)
    req = CommonRequest(domain=HOST, version="2015-05-01", action_name="CreateUser")
    req.set_protocol_type("http")
    req.set_method("POST")
    req.add_query_param("UserName", "evil-classic")
    try:
        body = client.do_action_with_exception(req)
    except ServerException as exc:
        expect(exc.get_error_code() == "NoPermission" and exc.get_http_status() == 403,
               f"got {exc.get_error_code()} HTTP {exc.get_http_status()}: {exc.get_error_msg()}")
        expect(bool(exc.get_request_id()), "no RequestId")
        return f"ServerException NoPermission HTTP 403: {exc.get_error_msg()}"
    raise AssertionError(f"CreateUser succeeded: {body!r}")


check("narrow user via classic core CommonRequest: CreateUser -> NoPermission 403", narrow_classic_denied)


def narrow_explicit_deny():
    ok(root.create_policy(ram_models.CreatePolicyRequest(
        policy_name="deny-list", policy_document=doc(deny("ram:ListUsers")))))
    ok(root.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
        policy_type="Custom", policy_name="deny-list", user_name="narrow")))
    line = expect_error(lambda: narrow_client().list_users(ram_models.ListUsersRequest()), "NoPermission", 403,
                        dict(NARROW_DETAIL, AuthAction="ram:ListUsers", NoPermissionType="ExplicitDeny"))
    ok(root.detach_policy_from_user(ram_models.DetachPolicyFromUserRequest(
        policy_type="Custom", policy_name="deny-list", user_name="narrow")))
    ok(narrow_client().list_users(ram_models.ListUsersRequest()))
    return line + "; allowed again after detach"


check("narrow user: explicit Deny on ListUsers -> NoPermission ExplicitDeny", narrow_explicit_deny)

# =============================================================== 3. STS

print("\n== scenario 3: STS AssumeRole", flush=True)

ROLE_ARN = f"acs:ram::{ACCOUNT}:role/sts-role"
EXT_ROLE_ARN = f"acs:ram::{ACCOUNT}:role/ext-role"


def sts_setup():
    ok(root.create_role(ram_models.CreateRoleRequest(
        role_name="sts-role", assume_role_policy_document=trust(), max_session_duration=7200)))
    ok(root.create_policy(ram_models.CreatePolicyRequest(
        policy_name="sts-role-perms", policy_document=doc(allow(["ram:ListUsers", "ram:GetUser", "ram:ListGroups"])))))
    ok(root.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
        policy_type="Custom", policy_name="sts-role-perms", role_name="sts-role")))
    ok(root.create_role(ram_models.CreateRoleRequest(
        role_name="ext-role", assume_role_policy_document=trust(
            condition={"StringEquals": {"sts:ExternalId": "ext-123456"}}))))
    ok(root.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
        policy_type="Custom", policy_name="sts-role-perms", role_name="ext-role")))
    # a role that trusts some other account only
    ok(root.create_role(ram_models.CreateRoleRequest(
        role_name="foreign-role", assume_role_policy_document=trust("acs:ram::1000000000000001:root"))))
    ok(root.create_user(ram_models.CreateUserRequest(user_name="caller")))
    ok(root.create_policy(ram_models.CreatePolicyRequest(
        policy_name="may-assume", policy_document=doc(allow("sts:AssumeRole", f"acs:ram::{ACCOUNT}:role/*")))))
    ok(root.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
        policy_type="Custom", policy_name="may-assume", user_name="caller")))
    k = ok(root.create_access_key(ram_models.CreateAccessKeyRequest(user_name="caller"))).access_key
    state["caller"] = (k.access_key_id, k.access_key_secret)
    state["role_id"] = ok(root.get_role(ram_models.GetRoleRequest(role_name="sts-role"))).role.role_id
    return "sts-role (trusts root, ListUsers/GetUser/ListGroups), ext-role, foreign-role; user caller"


check("set up roles and user 'caller' (sts:AssumeRole on role/*)", sts_setup)


def caller_sts(algorithm=None):
    key_id, secret = state["caller"]
    return sts(key_id, secret, algorithm=algorithm)


def assume(session="s1", duration=None, policy=None, external_id=None, role_arn=ROLE_ARN, algorithm=None):
    req = sts_models.AssumeRoleRequest(role_arn=role_arn, role_session_name=session)
    if duration is not None:
        req.duration_seconds = duration
    if policy is not None:
        req.policy = policy
    if external_id is not None:
        req.external_id = external_id
    return caller_sts(algorithm).assume_role(req)


def assume_900():
    started = datetime.now(timezone.utc)
    body = ok(assume(duration=900))
    c = body.credentials
    expect(c.access_key_id.startswith("STS.") and c.access_key_secret and c.security_token,
           f"credentials {c.to_map()}")
    lifetime = (parse_iso(c.expiration) - started).total_seconds()
    expect(880 <= lifetime <= 905, f"Expiration {c.expiration} is {lifetime:.0f} s away, expected 900")
    u = body.assumed_role_user
    expect(u.arn == f"acs:ram::{ACCOUNT}:role/sts-role/s1", f"AssumedRoleUser.Arn {u.arn}")
    expect(u.assumed_role_id == f"{state['role_id']}:s1", f"AssumedRoleId {u.assumed_role_id}")
    state["s1"] = c
    return f"{c.access_key_id}, Expiration={c.expiration}"


check("caller AssumeRole DurationSeconds=900 (V3)", assume_900)


def expect_session_identity(body, session="s1"):
    expect(body.identity_type == "AssumedRoleUser", f"IdentityType {body.identity_type}")
    expect(body.account_id == ACCOUNT, f"AccountId {body.account_id}")
    expect(body.arn == f"acs:ram::{ACCOUNT}:assumed-role/sts-role/{session}", f"Arn {body.arn}")
    expect(body.role_id == state["role_id"], f"RoleId {body.role_id}")
    expect(body.principal_id == f"{state['role_id']}:{session}", f"PrincipalId {body.principal_id}")
    return body.arn


check("session GetCallerIdentity via STS SDK V3 (x-acs-security-token)",
      lambda: expect_session_identity(ok(session_sts(state["s1"]).get_caller_identity())))
check("session GetCallerIdentity via STS SDK V2 (SecurityToken parameter)",
      lambda: expect_session_identity(ok(session_sts(state["s1"], "v2").get_caller_identity())))


def classic_session_identity():
    c = state["s1"]
    body = classic_caller_identity(c.access_key_id, c.access_key_secret, c.security_token)
    expect(body.get("IdentityType") == "AssumedRoleUser", f"{body}")
    expect(body.get("Arn") == f"acs:ram::{ACCOUNT}:assumed-role/sts-role/s1", f"{body}")
    return body["Arn"]


check("session GetCallerIdentity via classic core (StsTokenCredential)", classic_session_identity)


def session_wrong_token():
    c = state["s1"]
    return expect_error(lambda: sts(c.access_key_id, c.access_key_secret, "CAIS" + "A" * 64).get_caller_identity(),
                        "InvalidSecurityToken.MismatchWithAccessKey", 400)


check("session with a wrong SecurityToken -> InvalidSecurityToken.MismatchWithAccessKey", session_wrong_token)


def session_allowed():
    users = [u.user_name for u in ok(session_ram(state["s1"]).list_users(ram_models.ListUsersRequest())).users.user]
    expect("caller" in users, f"ListUsers {users}")
    ok(session_ram(state["s1"], "v2").get_user(ram_models.GetUserRequest(user_name="bob")))
    ok(session_ram(state["s1"]).list_groups(ram_models.ListGroupsRequest()))
    return f"ListUsers ({len(users)}), GetUser (v2), ListGroups"


check("session: what the role's policy allows succeeds", session_allowed)

SESSION_DETAIL = {"AuthPrincipalType": "AssumedRoleUser", "AuthPrincipalOwnerId": ACCOUNT,
                  "AuthPrincipalDisplayName": "sts-role:s1", "NoPermissionType": "ImplicitDeny",
                  "PolicyType": "AccountLevelIdentityBasedPolicy"}

check("session: CreateUser (not in the role's policy) -> NoPermission 403",
      lambda: expect_error(lambda: session_ram(state["s1"]).create_user(ram_models.CreateUserRequest(user_name="x1")),
                           "NoPermission", 403, dict(SESSION_DETAIL, AuthAction="ram:CreateUser")))
check("session: ListRoles (not in the role's policy, V2) -> NoPermission 403",
      lambda: expect_error(lambda: session_ram(state["s1"], "v2").list_roles(ram_models.ListRolesRequest()),
                           "NoPermission", 403, dict(SESSION_DETAIL, AuthAction="ram:ListRoles")))


def caller_itself_limited():
    key_id, secret = state["caller"]
    return expect_error(lambda: ram(key_id, secret).list_users(ram_models.ListUsersRequest()), "NoPermission", 403,
                        {"AuthAction": "ram:ListUsers", "AuthPrincipalType": "SubUser",
                         "AuthPrincipalDisplayName": "caller"})


check("caller itself (only sts:AssumeRole) cannot ListUsers", caller_itself_limited)

SESSION_POLICY = doc(allow("ram:GetUser"))


def session_policy():
    c = ok(assume(session="narrowed", policy=SESSION_POLICY)).credentials
    ok(session_ram(c).get_user(ram_models.GetUserRequest(user_name="bob")))
    line = expect_error(lambda: session_ram(c).list_users(ram_models.ListUsersRequest()), "NoPermission", 403,
                        {"AuthAction": "ram:ListUsers", "PolicyType": "SessionPolicy",
                         "AuthPrincipalDisplayName": "sts-role:narrowed", "NoPermissionType": "ImplicitDeny"})
    # and the session policy never widens what the role has
    c2 = ok(assume(session="widened", policy=doc(allow("ram:*")))).credentials
    expect_error(lambda: session_ram(c2).create_user(ram_models.CreateUserRequest(user_name="x2")),
                 "NoPermission", 403, {"AuthAction": "ram:CreateUser"})
    return "GetUser ok; ListUsers -> " + line + "; ram:* session policy does not widen"


check("session policy narrows the role (GetUser ok, ListUsers denied, PolicyType SessionPolicy)", session_policy)

check("AssumeRole with a malformed session Policy -> InvalidParameter.PolicyGrammar 400",
      lambda: expect_error(lambda: assume(session="bad", policy='{"Statement":"nope"}'),
                           "InvalidParameter.PolicyGrammar", 400))

check("AssumeRole ext-role without ExternalId -> NoPermission 403",
      lambda: expect_error(lambda: assume(role_arn=EXT_ROLE_ARN, session="ext"), "NoPermission", 403))
check("AssumeRole ext-role with a wrong ExternalId -> NoPermission 403",
      lambda: expect_error(lambda: assume(role_arn=EXT_ROLE_ARN, session="ext", external_id="ext-wrong"),
                           "NoPermission", 403))


def external_id_ok():
    c = ok(assume(role_arn=EXT_ROLE_ARN, session="ext", external_id="ext-123456", algorithm="v2")).credentials
    body = ok(session_sts(c).get_caller_identity())
    expect(body.arn == f"acs:ram::{ACCOUNT}:assumed-role/ext-role/ext", f"Arn {body.arn}")
    return body.arn


check("AssumeRole ext-role with the right ExternalId (V2) -> ok", external_id_ok)

check("AssumeRole DurationSeconds=899 -> InvalidParameter.DurationSeconds 400",
      lambda: expect_error(lambda: assume(duration=899), "InvalidParameter.DurationSeconds", 400))
check("AssumeRole DurationSeconds=7201 (> MaxSessionDuration 7200) -> InvalidParameter.DurationSeconds 400",
      lambda: expect_error(lambda: assume(duration=7201), "InvalidParameter.DurationSeconds", 400))


def duration_max():
    started = datetime.now(timezone.utc)
    c = ok(assume(session="long", duration=7200)).credentials
    lifetime = (parse_iso(c.expiration) - started).total_seconds()
    expect(7180 <= lifetime <= 7205, f"lifetime {lifetime:.0f}")
    return f"Expiration={c.expiration}"


check("AssumeRole DurationSeconds=7200 (= MaxSessionDuration) -> ok", duration_max)


def duration_default():
    started = datetime.now(timezone.utc)
    c = ok(assume(session="default")).credentials
    lifetime = (parse_iso(c.expiration) - started).total_seconds()
    expect(3580 <= lifetime <= 3605, f"default lifetime {lifetime:.0f}, expected 3600")
    return f"Expiration={c.expiration}"


check("AssumeRole without DurationSeconds -> 3600 s", duration_default)


def update_role_duration():
    ok(root.update_role(ram_models.UpdateRoleRequest(role_name="sts-role", new_max_session_duration=3600)))
    got = ok(root.get_role(ram_models.GetRoleRequest(role_name="sts-role"))).role.max_session_duration
    expect(got == 3600, f"MaxSessionDuration after UpdateRole {got}")
    line = expect_error(lambda: assume(session="after-update", duration=3601), "InvalidParameter.DurationSeconds", 400)
    ok(assume(session="after-update", duration=3600))
    ok(root.update_role(ram_models.UpdateRoleRequest(role_name="sts-role", new_max_session_duration=7200)))
    return "MaxSessionDuration 3600: 3601 -> " + line + ", 3600 ok"


check("UpdateRole NewMaxSessionDuration=3600 bounds AssumeRole", update_role_duration)

check("AssumeRole foreign-role (trusts another account) -> NoPermission 403",
      lambda: expect_error(lambda: assume(role_arn=f"acs:ram::{ACCOUNT}:role/foreign-role", session="f"),
                           "NoPermission", 403))
check("AssumeRole nonexistent role -> EntityNotExist.Role 404",
      lambda: expect_error(lambda: assume(role_arn=f"acs:ram::{ACCOUNT}:role/no-such-role", session="n"),
                           "EntityNotExist.Role", 404))
check("AssumeRole malformed RoleArn -> InvalidParameter.RoleArn 400",
      lambda: expect_error(lambda: assume(role_arn="arn:aws:iam::1:role/x", session="n"),
                           "InvalidParameter.RoleArn", 400))
check("AssumeRole RoleSessionName 'a' -> InvalidParameter.RoleSessionName 400",
      lambda: expect_error(lambda: assume(session="a"), "InvalidParameter.RoleSessionName", 400))


def mixed_case_role():
    # Clients pass the Arn from CreateRole / GetRole straight to AssumeRole.
    r = ok(root.create_role(ram_models.CreateRoleRequest(
        role_name="MixedCaseRole", assume_role_policy_document=trust()))).role
    state["mixed_arn"] = r.arn
    body = ok(assume(role_arn=r.arn, session="mixed"))
    state["mixed_assumed"] = body.assumed_role_user.arn
    who = ok(session_sts(body.credentials).get_caller_identity()).arn
    state["mixed_identity"] = who
    expect(who.lower() == f"acs:ram::{ACCOUNT}:assumed-role/mixedcaserole/mixed", f"identity {who}")
    return f"CreateRole Arn={r.arn}; session {who}"


check("AssumeRole a mixed-case role by the Arn CreateRole returned", mixed_case_role)


def mixed_case_consistent():
    # AssumeRole's AssumedRoleUser.Arn is acs:ram::<acct>:role/<role>/<session>, GetCallerIdentity's
    # Arn is acs:ram::<acct>:assumed-role/<role>/<session>: the role name must be spelled alike.
    assumed, identity = state["mixed_assumed"], state["mixed_identity"]
    role_in_assumed = assumed.split(":role/", 1)[1].split("/")[0]
    role_in_identity = identity.split(":assumed-role/", 1)[1].split("/")[0]
    expect(role_in_assumed == role_in_identity,
           f"AssumeRole AssumedRoleUser.Arn {assumed!r} vs GetCallerIdentity Arn {identity!r}")
    return f"{assumed} / {identity}"


check("AssumedRoleUser.Arn and GetCallerIdentity Arn spell the role name alike", mixed_case_consistent)


def mixed_case_role_lower_arn():
    # Alibaba Cloud prints role ARNs with the role name in lower case (ActionTrail events,
    # the RD access role `acs:ram:*:*:role/resourcedirectoryaccountaccessrole`), and this
    # server's own AssumedRoleUser / GetCallerIdentity ARNs lower-case it too; the reference
    # recommends comparing role names case-insensitively.
    c = ok(assume(role_arn=f"acs:ram::{ACCOUNT}:role/mixedcaserole", session="lower")).credentials
    return ok(session_sts(c).get_caller_identity()).arn


check("AssumeRole a mixed-case role by the lower-case ARN", mixed_case_role_lower_arn)


def bob_without_permission():
    k = ok(root.create_access_key(ram_models.CreateAccessKeyRequest(user_name="bob"))).access_key
    return expect_error(lambda: sts(k.access_key_id, k.access_key_secret).assume_role(
        sts_models.AssumeRoleRequest(role_arn=ROLE_ARN, role_session_name="bob")), "NoPermission", 403,
        {"AuthAction": "sts:AssumeRole", "AuthPrincipalDisplayName": "bob"})


check("bob (no sts:AssumeRole permission) -> NoPermission 403", bob_without_permission)


def deleting_role_ends_sessions():
    c = ok(assume(session="doomed")).credentials
    ok(session_sts(c).get_caller_identity())
    ok(root.detach_policy_from_role(ram_models.DetachPolicyFromRoleRequest(
        policy_type="Custom", policy_name="sts-role-perms", role_name="sts-role")))
    line = expect_error(lambda: session_ram(c).list_users(ram_models.ListUsersRequest()), "NoPermission", 403)
    return "after detaching the role's policy the live session lost it: " + line


check("a live session follows the role's current policies (detach -> denied)", deleting_role_ends_sessions)

finish("test_iam.py")
