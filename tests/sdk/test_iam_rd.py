#!/usr/bin/env python3
"""Official Alibaba Cloud Python SDKs against a running Cloudward server: Resource Directory
and control policies (`alibabacloud-resourcedirectorymaster20220419`), then RAM inside a member
account through the member's `ResourceDirectoryAccountAccessRole`.

Run by `crates/cli/tests/sdk_iam.rs` on a fresh server (same environment as `test_iam.py`).

Scenario 4: enable the directory, create folders and a member account in a nested folder,
enable control policies, create a control policy denying `ram:CreateUser` and attach it to a
folder above the member; the management root assumes the member's access role; as the
member's administrator `ram:CreateUser` is denied (NoPermission, AccessDeniedDetail.PolicyType
ControlPolicy) while `ram:ListUsers` works; detaching makes CreateUser work. The management
account itself is never restricted.
"""

import json
import re

from test_iam_common import (  # noqa: E402
    ACCOUNT, KNOWN_FAILURES, check, config, deny, doc, expect, expect_error, finish, ok, ram,
    ram_models, session_ram, session_sts, sts, sts_models,
)
from alibabacloud_resourcedirectorymaster20220419.client import Client as RdClient  # noqa: E402
from alibabacloud_resourcedirectorymaster20220419 import models as rd_models  # noqa: E402

KNOWN_FAILURES.update({
})

rd = RdClient(config())
rd_v2 = RdClient(config(algorithm="v2"))
root_ram = ram()
state = {}

print("== scenario 4: Resource Directory and control policies", flush=True)


def enable():
    body = ok(rd.enable_resource_directory(rd_models.EnableResourceDirectoryRequest(enable_mode="CurrentAccount")))
    d = body.resource_directory
    expect(d.master_account_id == ACCOUNT, f"MasterAccountId {d.master_account_id} != {ACCOUNT}")
    expect(re.fullmatch(r"r-\w+", d.root_folder_id or ""), f"RootFolderId {d.root_folder_id!r}")
    expect(bool(d.resource_directory_id), "no ResourceDirectoryId")
    state["root"] = d.root_folder_id
    got = ok(rd_v2.get_resource_directory()).resource_directory
    expect(got.root_folder_id == d.root_folder_id and got.resource_directory_id == d.resource_directory_id,
           f"GetResourceDirectory {got.to_map()}")
    return f"{d.resource_directory_id}, root folder {d.root_folder_id}"


check("EnableResourceDirectory / GetResourceDirectory (V2)", enable)

check("EnableResourceDirectory again -> EntityAlreadyExists.ResourceDirectory 409",
      lambda: expect_error(lambda: rd.enable_resource_directory(
          rd_models.EnableResourceDirectoryRequest(enable_mode="CurrentAccount")),
          "EntityAlreadyExists.ResourceDirectory", 409))


def folders():
    prod = ok(rd.create_folder(rd_models.CreateFolderRequest(folder_name="Prod"))).folder
    sandbox = ok(rd_v2.create_folder(rd_models.CreateFolderRequest(
        folder_name="Sandbox", parent_folder_id=state["root"]))).folder
    team = ok(rd.create_folder(rd_models.CreateFolderRequest(
        folder_name="Team", parent_folder_id=prod.folder_id))).folder
    for f in (prod, sandbox, team):
        expect(re.fullmatch(r"fd-\w+", f.folder_id or ""), f"FolderId {f.folder_id!r}")
    expect(prod.parent_folder_id == state["root"] and team.parent_folder_id == prod.folder_id,
           f"parents {prod.parent_folder_id}, {team.parent_folder_id}")
    children = ok(rd.list_folders_for_parent(rd_models.ListFoldersForParentRequest(
        parent_folder_id=state["root"]))).folders.folder
    expect({c.folder_name for c in children} == {"Prod", "Sandbox"}, f"children {[c.to_map() for c in children]}")
    state.update(prod=prod.folder_id, sandbox=sandbox.folder_id, team=team.folder_id)
    return f"Prod={prod.folder_id} > Team={team.folder_id}, Sandbox={sandbox.folder_id}"


check("CreateFolder x3 (nested) / ListFoldersForParent", folders)


def member():
    a = ok(rd.create_resource_account(rd_models.CreateResourceAccountRequest(
        display_name="member-one", account_name_prefix="member-one", parent_folder_id=state["team"]))).account
    expect(re.fullmatch(r"[1-9]\d{15}", a.account_id or ""), f"AccountId {a.account_id!r}")
    expect(a.account_id != ACCOUNT, "the member is the management account")
    expect(a.folder_id == state["team"] and a.type == "ResourceAccount", f"account {a.to_map()}")
    state["member"] = a.account_id
    got = ok(rd_v2.get_account(rd_models.GetAccountRequest(account_id=a.account_id))).account
    expect(got.display_name == "member-one" and got.folder_id == state["team"], f"GetAccount {got.to_map()}")
    listed = ok(rd.list_accounts_for_parent(rd_models.ListAccountsForParentRequest(
        parent_folder_id=state["team"]))).accounts.account
    expect([x.account_id for x in listed] == [a.account_id], f"ListAccountsForParent {[x.to_map() for x in listed]}")
    return f"member {a.account_id} ({a.account_name}) in Team"


check("CreateResourceAccount in a nested folder / GetAccount / ListAccountsForParent", member)


def enable_cp():
    status = ok(rd.enable_control_policy()).enablement_status
    expect(status == "Enabled", f"EnablementStatus {status}")
    got = ok(rd_v2.get_control_policy_enablement_status()).enablement_status
    expect(got == "Enabled", f"GetControlPolicyEnablementStatus {got}")
    atts = ok(rd.list_control_policy_attachments_for_target(rd_models.ListControlPolicyAttachmentsForTargetRequest(
        target_id=state["prod"]))).control_policy_attachments.control_policy_attachment
    expect([x.policy_id for x in atts] == ["cp-FullAliyunAccess"], f"attachments {[x.to_map() for x in atts]}")
    return "Enabled; FullAliyunAccess on Prod"


check("EnableControlPolicy / GetControlPolicyEnablementStatus / FullAliyunAccess attached", enable_cp)

DENY_CREATE_USER = doc(deny("ram:CreateUser"))


def create_cp():
    p = ok(rd.create_control_policy(rd_models.CreateControlPolicyRequest(
        policy_name="DenyRamCreateUser", description="no new RAM users", effect_scope="RAM",
        policy_document=DENY_CREATE_USER))).control_policy
    expect(re.fullmatch(r"cp-\w+", p.policy_id or "") and p.policy_type == "Custom", f"policy {p.to_map()}")
    state["cp"] = p.policy_id
    got = ok(rd_v2.get_control_policy(rd_models.GetControlPolicyRequest(policy_id=p.policy_id))).control_policy
    expect(json.loads(got.policy_document) == json.loads(DENY_CREATE_USER), f"document {got.policy_document}")
    ok(rd.attach_control_policy(rd_models.AttachControlPolicyRequest(policy_id=p.policy_id, target_id=state["prod"])))
    atts = ok(rd.list_control_policy_attachments_for_target(rd_models.ListControlPolicyAttachmentsForTargetRequest(
        target_id=state["prod"]))).control_policy_attachments.control_policy_attachment
    expect({x.policy_id for x in atts} == {"cp-FullAliyunAccess", p.policy_id}, f"attachments {[x.to_map() for x in atts]}")
    return f"{p.policy_id} attached to Prod"


check("CreateControlPolicy (Deny ram:CreateUser) / GetControlPolicy / AttachControlPolicy to Prod", create_cp)

check("CreateControlPolicy with a Principal -> MalformedPolicyDocument 400",
      lambda: expect_error(lambda: rd.create_control_policy(rd_models.CreateControlPolicyRequest(
          policy_name="Bad", effect_scope="RAM", policy_document=json.dumps({"Version": "1", "Statement": [
              {"Effect": "Deny", "Action": "*", "Resource": "*", "Principal": {"RAM": "*"}}]}))),
          "MalformedPolicyDocument", 400))


def member_role_arn(mixed_case=True):
    name = "ResourceDirectoryAccountAccessRole" if mixed_case else "resourcedirectoryaccountaccessrole"
    return f"acs:ram::{state['member']}:role/{name}"


def assume_member():
    body = ok(sts().assume_role(sts_models.AssumeRoleRequest(
        role_arn=member_role_arn(), role_session_name="mgmt-admin")))
    c = body.credentials
    state["member_creds"] = c
    who = ok(session_sts(c).get_caller_identity())
    expect(who.account_id == state["member"], f"AccountId {who.account_id} != member {state['member']}")
    expect(who.identity_type == "AssumedRoleUser", f"IdentityType {who.identity_type}")
    expected = f"acs:ram::{state['member']}:assumed-role/resourcedirectoryaccountaccessrole/mgmt-admin"
    expect(who.arn.lower() == expected, f"Arn {who.arn}")
    return f"AssumedRoleUser.Arn={body.assumed_role_user.arn}; GetCallerIdentity Arn={who.arn}"


check("management root AssumeRole acs:ram::<member>:role/ResourceDirectoryAccountAccessRole", assume_member)


def assume_member_lower():
    # docs/resource-directory.md documents this spelling; Alibaba prints role ARNs in lower case.
    c = ok(sts(algorithm="v2").assume_role(sts_models.AssumeRoleRequest(
        role_arn=member_role_arn(False), role_session_name="mgmt-admin-2"))).credentials
    return ok(session_sts(c).get_caller_identity()).arn


check("management root AssumeRole acs:ram::<member>:role/resourcedirectoryaccountaccessrole (lower case, V2)",
      assume_member_lower)


def member_ram():
    return session_ram(state["member_creds"])


def member_list_users():
    users = ok(member_ram().list_users(ram_models.ListUsersRequest())).users.user
    expect(users == [], f"the new member already has users: {[u.user_name for u in users]}")
    return "ListUsers ok (0 users in the member)"


check("member admin: ram:ListUsers (allowed) works", member_list_users)

CP_DETAIL = {"AuthAction": "ram:CreateUser", "PolicyType": "ControlPolicy", "NoPermissionType": "ExplicitDeny",
             "AuthPrincipalType": "AssumedRoleUser"}


def member_create_user_denied():
    return expect_error(lambda: member_ram().create_user(ram_models.CreateUserRequest(user_name="blocked")),
                        "NoPermission", 403, dict(CP_DETAIL, AuthPrincipalOwnerId=state["member"]))


check("member admin: ram:CreateUser -> NoPermission 403, PolicyType ControlPolicy", member_create_user_denied)


def member_create_user_denied_v2():
    return expect_error(lambda: session_ram(state["member_creds"], "v2").create_user(
        ram_models.CreateUserRequest(user_name="blocked")), "NoPermission", 403, CP_DETAIL)


check("member admin (V2): ram:CreateUser -> NoPermission 403, PolicyType ControlPolicy", member_create_user_denied_v2)


def management_unrestricted():
    u = ok(root_ram.create_user(ram_models.CreateUserRequest(user_name="mgmt-user"))).user
    expect(u.user_name == "mgmt-user", f"{u.to_map()}")
    # attach the deny to the Root folder as well: the management account is still exempt
    ok(rd.attach_control_policy(rd_models.AttachControlPolicyRequest(policy_id=state["cp"], target_id=state["root"])))
    ok(root_ram.create_user(ram_models.CreateUserRequest(user_name="mgmt-user-2")))
    # ... and so is a RAM user of the management account
    ok(root_ram.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
        policy_type="System", policy_name="AdministratorAccess", user_name="mgmt-user")))
    k = ok(root_ram.create_access_key(ram_models.CreateAccessKeyRequest(user_name="mgmt-user"))).access_key
    ok(ram(k.access_key_id, k.access_key_secret).create_user(ram_models.CreateUserRequest(user_name="mgmt-user-3")))
    ok(rd.detach_control_policy(rd_models.DetachControlPolicyRequest(policy_id=state["cp"], target_id=state["root"])))
    return "CreateUser works in the management account for the root and a RAM user (policy on Prod, then on Root)"


check("management account is never restricted by control policies", management_unrestricted)


def member_cannot_use_rd():
    return expect_error(lambda: RdClient(config(
        state["member_creds"].access_key_id, state["member_creds"].access_key_secret,
        state["member_creds"].security_token)).list_accounts(rd_models.ListAccountsRequest()), "NoPermission", 403)


check("member admin: ResourceDirectory ListAccounts -> NoPermission 403", member_cannot_use_rd)

check("DeleteControlPolicy while attached -> DeleteConflict.ControlPolicy.Attachment 409",
      lambda: expect_error(lambda: rd.delete_control_policy(rd_models.DeleteControlPolicyRequest(
          policy_id=state["cp"])), "DeleteConflict.ControlPolicy.Attachment", 409))


def detach_then_allowed():
    ok(rd_v2.detach_control_policy(rd_models.DetachControlPolicyRequest(policy_id=state["cp"], target_id=state["prod"])))
    u = ok(member_ram().create_user(ram_models.CreateUserRequest(user_name="now-allowed"))).user
    names = [x.user_name for x in ok(member_ram().list_users(ram_models.ListUsersRequest())).users.user]
    expect(names == ["now-allowed"], f"member users {names}")
    mgmt = [x.user_name for x in ok(root_ram.list_users(ram_models.ListUsersRequest())).users.user]
    expect("now-allowed" not in mgmt, f"the member's user shows in the management account: {mgmt}")
    return f"CreateUser ok ({u.user_name}, in the member only)"


check("DetachControlPolicy -> member admin CreateUser works (same session)", detach_then_allowed)


def member_target_attach():
    p = ok(rd.create_control_policy(rd_models.CreateControlPolicyRequest(
        policy_name="DenyListUsers", effect_scope="RAM", policy_document=doc(deny("ram:ListUsers"))))).control_policy
    ok(rd.attach_control_policy(rd_models.AttachControlPolicyRequest(policy_id=p.policy_id, target_id=state["member"])))
    line = expect_error(lambda: member_ram().list_users(ram_models.ListUsersRequest()), "NoPermission", 403,
                        {"PolicyType": "ControlPolicy", "AuthAction": "ram:ListUsers"})
    ok(rd.detach_control_policy(rd_models.DetachControlPolicyRequest(policy_id=p.policy_id, target_id=state["member"])))
    ok(member_ram().list_users(ram_models.ListUsersRequest()))
    ok(rd.delete_control_policy(rd_models.DeleteControlPolicyRequest(policy_id=p.policy_id)))
    return line + "; allowed after detach"


check("control policy attached to the member account itself", member_target_attach)


def allow_list():
    # Without FullAliyunAccess on Team, nothing allows at that level: implicit deny.
    ok(rd.detach_control_policy(rd_models.DetachControlPolicyRequest(
        policy_id="cp-FullAliyunAccess", target_id=state["team"])))
    line = expect_error(lambda: member_ram().list_users(ram_models.ListUsersRequest()), "NoPermission", 403,
                        {"PolicyType": "ControlPolicy", "NoPermissionType": "ImplicitDeny"})
    ok(rd.attach_control_policy(rd_models.AttachControlPolicyRequest(
        policy_id="cp-FullAliyunAccess", target_id=state["team"])))
    ok(member_ram().list_users(ram_models.ListUsersRequest()))
    return line + "; allowed again with FullAliyunAccess"


check("FullAliyunAccess detached from the member's folder -> implicit deny", allow_list)


def cleanup():
    ok(rd.delete_control_policy(rd_models.DeleteControlPolicyRequest(policy_id=state["cp"])))
    expect_error(lambda: rd.get_control_policy(rd_models.GetControlPolicyRequest(policy_id=state["cp"])),
                 "EntityNotExists.ControlPolicy", 404)
    status = ok(rd.disable_control_policy()).enablement_status
    expect(status == "Disabled", f"EnablementStatus {status}")
    return "DeleteControlPolicy ok; DisableControlPolicy -> Disabled"


check("DeleteControlPolicy (detached) / DisableControlPolicy", cleanup)

finish("test_iam_rd.py")
