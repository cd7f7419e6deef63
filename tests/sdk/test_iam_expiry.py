#!/usr/bin/env python3
"""Official Alibaba Cloud Python SDKs against an in-process Cloudward server whose clock the
Rust test controls: an STS session that has expired is refused with
`InvalidSecurityToken.Expired`.

`crates/cli/tests/sdk_iam.rs` runs this script twice against the same server:

  python test_iam_expiry.py create   # server clock set 16 minutes in the PAST
  python test_iam_expiry.py check    # server clock back to real time

`create` makes a role and a user, assumes the role with DurationSeconds=900 (so the session
expires 15 minutes after the shifted "now", i.e. one minute before real time) and with 3600 (a
control that is still valid), checks both work at that moment, and writes the credentials to
`CLOUDWARD_TEST_STATE_FILE`. `check` reads them back and expects the first to be expired for
every client (tea V3, tea V2, classic core, and a RAM call) while the control still works.

The SDKs sign with the real time, so while the server clock is 16 minutes behind the requests
look 16 minutes early; the test server is started with a request-time window wide enough to
accept them (the expiry under test is the session's, not the request's).
"""

import json
import os
import sys
from datetime import datetime, timezone

from test_iam_common import (  # noqa: E402
    ACCOUNT, KNOWN_FAILURES, check, classic_caller_identity, expect, expect_error, finish, ok, ram,
    ram_models, session_ram, session_sts, sts, sts_models, trust,
)

KNOWN_FAILURES.update({
})

PHASE = sys.argv[1] if len(sys.argv) > 1 else ""
STATE_FILE = os.environ["CLOUDWARD_TEST_STATE_FILE"]
ROLE_ARN = f"acs:ram::{ACCOUNT}:role/expiring-role"


class Creds:
    def __init__(self, m):
        self.access_key_id = m["AccessKeyId"]
        self.access_key_secret = m["AccessKeySecret"]
        self.security_token = m["SecurityToken"]
        self.expiration = m["Expiration"]


if PHASE == "create":
    print("== scenario 3b (part 1): sessions created while the server clock is 16 min behind", flush=True)
    root = ram()
    state = {}

    def setup():
        ok(root.create_role(ram_models.CreateRoleRequest(role_name="expiring-role",
                                                         assume_role_policy_document=trust())))
        ok(root.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
            policy_type="System", policy_name="AliyunRAMReadOnlyAccess", role_name="expiring-role")))
        ok(root.create_user(ram_models.CreateUserRequest(user_name="exp-caller")))
        ok(root.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
            policy_type="System", policy_name="AliyunSTSAssumeRoleAccess", user_name="exp-caller")))
        k = ok(root.create_access_key(ram_models.CreateAccessKeyRequest(user_name="exp-caller"))).access_key
        state["caller"] = (k.access_key_id, k.access_key_secret)
        return "expiring-role (AliyunRAMReadOnlyAccess), exp-caller (AliyunSTSAssumeRoleAccess)"

    check("set up role and user", setup)

    def assume(name, duration):
        def run():
            key_id, secret = state["caller"]
            c = ok(sts(key_id, secret).assume_role(sts_models.AssumeRoleRequest(
                role_arn=ROLE_ARN, role_session_name=name, duration_seconds=duration))).credentials
            who = ok(session_sts(c).get_caller_identity())
            expect(who.arn == f"acs:ram::{ACCOUNT}:assumed-role/expiring-role/{name}", f"Arn {who.arn}")
            ok(session_ram(c).list_users(ram_models.ListUsersRequest()))
            state[name] = c.to_map()
            return f"Expiration={c.expiration} (server clock); usable now"
        return run

    check("AssumeRole DurationSeconds=900 (to expire)", assume("short", 900))
    check("AssumeRole DurationSeconds=3600 (control)", assume("control", 3600))

    with open(STATE_FILE, "w") as f:
        json.dump({k: v for k, v in state.items() if k in ("short", "control")}, f)
    finish("test_iam_expiry.py create")

elif PHASE == "check":
    print("== scenario 3b (part 2): server clock back to real time", flush=True)
    with open(STATE_FILE) as f:
        saved = json.load(f)
    expect("short" in saved and "control" in saved, f"part 1 did not save both sessions: {list(saved)}")
    short = Creds(saved["short"])
    control = Creds(saved["control"])

    def in_the_past():
        when = datetime.strptime(short.expiration, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        ago = (datetime.now(timezone.utc) - when).total_seconds()
        expect(ago > 0, f"Expiration {short.expiration} is not in the past ({ago:.0f} s)")
        return f"Expiration {short.expiration} was {ago:.0f} s ago"

    check("the short session's Expiration is in the past", in_the_past)
    check("expired session: GetCallerIdentity (tea V3) -> InvalidSecurityToken.Expired 400",
          lambda: expect_error(lambda: session_sts(short).get_caller_identity(), "InvalidSecurityToken.Expired", 400))
    check("expired session: GetCallerIdentity (tea V2) -> InvalidSecurityToken.Expired 400",
          lambda: expect_error(lambda: session_sts(short, "v2").get_caller_identity(),
                               "InvalidSecurityToken.Expired", 400))
    check("expired session: RAM ListUsers (tea V3) -> InvalidSecurityToken.Expired 400",
          lambda: expect_error(lambda: session_ram(short).list_users(ram_models.ListUsersRequest()),
                               "InvalidSecurityToken.Expired", 400))

    def classic_expired():
        from aliyunsdkcore.acs_exception.exceptions import ServerException
        try:
            body = classic_caller_identity(short.access_key_id, short.access_key_secret, short.security_token)
        except ServerException as exc:
            expect(exc.get_error_code() == "InvalidSecurityToken.Expired" and exc.get_http_status() == 400,
                   f"got {exc.get_error_code()} HTTP {exc.get_http_status()}: {exc.get_error_msg()}")
            expect(bool(exc.get_request_id()), "no RequestId")
            return f"ServerException {exc.get_error_code()} HTTP {exc.get_http_status()}"
        raise AssertionError(f"the expired session was accepted: {body}")

    check("expired session: classic core (StsTokenCredential) -> InvalidSecurityToken.Expired 400", classic_expired)

    def control_works():
        who = ok(session_sts(control).get_caller_identity())
        ok(session_ram(control, "v2").list_users(ram_models.ListUsersRequest()))
        return f"{who.arn} still valid until {control.expiration}"

    check("control session (3600 s) still works", control_works)
    finish("test_iam_expiry.py check")

else:
    print(f"usage: {sys.argv[0]} create|check", file=sys.stderr)
    sys.exit(2)
