#!/usr/bin/env python3
"""Official Alibaba Cloud Python SDKs against a running Cloudward server: STS GetCallerIdentity.

A plain script (no pytest): it prints one line per check and exits non-zero if any failed.
`crates/cli/tests/sdk_sts.rs` starts the server and runs it; to run it by hand:

    CLOUDWARD_TEST_ENDPOINT=127.0.0.1:18080 \
    CLOUDWARD_TEST_ACCESS_KEY_ID=LTAI... CLOUDWARD_TEST_ACCESS_KEY_SECRET=... \
    [CLOUDWARD_TEST_ACCOUNT_ID=1234567890123456] python tests/sdk/test_sts.py

Clients exercised:
  (a) alibabacloud-sts20150401 + alibabacloud-tea-openapi, default signing (ACS3-HMAC-SHA256, V3)
  (b) the same with signature_algorithm="v2" (HMAC-SHA1 RPC)
  (c) the classic aliyun-python-sdk-core + aliyun-python-sdk-sts (HMAC-SHA1 RPC, GetCallerIdentityRequest)
"""

import json
import os
import re
import sys
import time
import traceback

for proxy in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(proxy, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

ENDPOINT = os.environ["CLOUDWARD_TEST_ENDPOINT"]  # host:port
AK_ID = os.environ["CLOUDWARD_TEST_ACCESS_KEY_ID"]
AK_SECRET = os.environ["CLOUDWARD_TEST_ACCESS_KEY_SECRET"]
EXPECTED_ACCOUNT = os.environ.get("CLOUDWARD_TEST_ACCOUNT_ID") or None
HOST, PORT = ENDPOINT.rsplit(":", 1)
WRONG_SECRET = "WrongSecretWrongSecretWrong0"
UNKNOWN_ID = "LTAI" + "Z" * 20

failures = []
passed = 0


def check(name, fn):
    """Runs one check; records a failure with the full exception (SDK errors included)."""
    global passed
    started = time.monotonic()
    try:
        detail = fn()
    except Exception as exc:  # noqa: BLE001 - we want every failure reported, then go on
        failures.append(name)
        print(f"FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
        traceback.print_exc(file=sys.stdout)
        return
    passed += 1
    elapsed = f"{(time.monotonic() - started) * 1000:.0f} ms"
    print(f"ok   {name} ({detail + ', ' if detail else ''}{elapsed})", flush=True)


def expect_identity(account_id, arn, identity_type, principal_id, sdk):
    if not re.fullmatch(r"[1-9][0-9]{15}", account_id or ""):
        raise AssertionError(f"{sdk}: AccountId {account_id!r} is not a 16-digit account id")
    if EXPECTED_ACCOUNT is not None and account_id != EXPECTED_ACCOUNT:
        raise AssertionError(f"{sdk}: AccountId {account_id!r} != expected {EXPECTED_ACCOUNT!r}")
    if arn != f"acs:ram::{account_id}:root":
        raise AssertionError(f"{sdk}: Arn {arn!r} != acs:ram::{account_id}:root")
    if identity_type != "Account":
        raise AssertionError(f"{sdk}: IdentityType {identity_type!r} != 'Account'")
    if principal_id != account_id:
        raise AssertionError(f"{sdk}: PrincipalId {principal_id!r} != AccountId {account_id!r}")
    seen_accounts.add(account_id)
    return f"AccountId={account_id}"


seen_accounts = set()

# ---------------------------------------------------------------- V2.0 (tea) SDK, V3 and V2

from alibabacloud_sts20150401.client import Client as StsClient  # noqa: E402
from alibabacloud_tea_openapi import models as open_api_models  # noqa: E402


def tea_client(secret=AK_SECRET, ak_id=AK_ID, algorithm=None):
    kwargs = dict(
        access_key_id=ak_id,
        access_key_secret=secret,
        endpoint=ENDPOINT,
        protocol="http",
        region_id="cn-hangzhou",
        read_timeout=10000,
        connect_timeout=5000,
    )
    if algorithm is not None:
        kwargs["signature_algorithm"] = algorithm
    return StsClient(open_api_models.Config(**kwargs))


def tea_identity(algorithm):
    def run():
        resp = tea_client(algorithm=algorithm).get_caller_identity()
        if resp.status_code != 200:
            raise AssertionError(f"HTTP {resp.status_code}")
        body = resp.body
        if not body.request_id:
            raise AssertionError("no RequestId in the body")
        header_id = {k.lower(): v for k, v in (resp.headers or {}).items()}.get("x-acs-request-id")
        if header_id != body.request_id:
            raise AssertionError(f"x-acs-request-id {header_id!r} != body RequestId {body.request_id!r}")
        return expect_identity(body.account_id, body.arn, body.identity_type, body.principal_id,
                               f"tea/{algorithm or 'v3'}")
    return run


def tea_error(expected_code, expected_status, algorithm, **client_kwargs):
    def run():
        try:
            resp = tea_client(algorithm=algorithm, **client_kwargs).get_caller_identity()
        except Exception as exc:  # the SDK raises ClientException (an AlibabaCloudException)
            code = getattr(exc, "code", None)
            status = getattr(exc, "status_code", None)
            if code != expected_code:
                raise AssertionError(
                    f"expected code {expected_code}, got {type(exc).__name__} code={code!r} "
                    f"status={status!r}: {exc}") from exc
            if status != expected_status:
                raise AssertionError(f"expected HTTP {expected_status}, got {status!r}: {exc}") from exc
            if AK_SECRET in str(exc) or WRONG_SECRET in str(exc):
                raise AssertionError("an AccessKey secret appears in the error") from exc
            request_id = getattr(exc, "request_id", None) or (getattr(exc, "data", None) or {}).get("RequestId")
            if not request_id:
                raise AssertionError(f"no RequestId in the error: {exc}") from exc
            return f"{type(exc).__name__} {code} HTTP {status}"
        raise AssertionError(f"expected {expected_code}, but the call succeeded: {resp.body}")
    return run


for alg in (None, "v2"):
    label = "v3 (default)" if alg is None else "v2"
    check(f"tea SDK {label}: GetCallerIdentity", tea_identity(alg))
    check(f"tea SDK {label}: wrong secret -> SignatureDoesNotMatch",
          tea_error("SignatureDoesNotMatch", 400, alg, secret=WRONG_SECRET))
    check(f"tea SDK {label}: unknown AccessKeyId -> InvalidAccessKeyId.NotFound",
          tea_error("InvalidAccessKeyId.NotFound", 404, alg, ak_id=UNKNOWN_ID))

# ---------------------------------------------------------------- classic SDK (aliyunsdkcore)

from aliyunsdkcore.client import AcsClient  # noqa: E402
from aliyunsdkcore.acs_exception.exceptions import ServerException  # noqa: E402
from aliyunsdksts.request.v20150401.GetCallerIdentityRequest import GetCallerIdentityRequest  # noqa: E402


def classic_call(ak_id=AK_ID, secret=AK_SECRET):
    client = AcsClient(ak_id, secret, "cn-hangzhou", port=int(PORT), auto_retry=False,
                       max_retry_time=0, timeout=10, connect_timeout=5)
    req = GetCallerIdentityRequest()
    req.set_endpoint(HOST)
    req.set_protocol_type("http")
    return client.do_action_with_exception(req)


def classic_identity():
    body = json.loads(classic_call())
    if not body.get("RequestId"):
        raise AssertionError(f"no RequestId in {body}")
    return expect_identity(body.get("AccountId"), body.get("Arn"), body.get("IdentityType"),
                           body.get("PrincipalId"), "classic")


def classic_error(expected_codes, expected_status, **kwargs):
    def run():
        try:
            body = classic_call(**kwargs)
        except ServerException as exc:
            code = exc.get_error_code()
            if code not in expected_codes:
                raise AssertionError(
                    f"expected {' or '.join(expected_codes)}, got ServerException {code} "
                    f"HTTP {exc.get_http_status()}: {exc.get_error_msg()}") from exc
            if exc.get_http_status() != expected_status:
                raise AssertionError(f"expected HTTP {expected_status}, got {exc.get_http_status()}: {exc}") from exc
            if not exc.get_request_id():
                raise AssertionError(f"no RequestId: {exc}") from exc
            return f"ServerException {code} HTTP {exc.get_http_status()}"
        raise AssertionError(f"expected {expected_codes}, but the call succeeded: {body!r}")
    return run


check("classic SDK: GetCallerIdentity", classic_identity)
# The classic core compares the server's echoed string-to-sign with its own and, when they are
# equal, reports the SignatureDoesNotMatch as InvalidAccessKeySecret (as it does against Alibaba
# Cloud). Getting InvalidAccessKeySecret therefore proves that the server canonicalised the
# request byte for byte like the SDK; plain SignatureDoesNotMatch would mean they differ.
check("classic SDK: wrong secret -> SignatureDoesNotMatch (reported as InvalidAccessKeySecret)",
      classic_error(["InvalidAccessKeySecret"], 400, secret=WRONG_SECRET))
check("classic SDK: unknown AccessKeyId -> InvalidAccessKeyId.NotFound",
      classic_error(["InvalidAccessKeyId.NotFound"], 404, ak_id=UNKNOWN_ID))


def same_account():
    if len(seen_accounts) != 1:
        raise AssertionError(f"the SDKs saw different accounts: {sorted(seen_accounts)}")
    return seen_accounts.copy().pop()


check("all SDKs saw the same account", same_account)

print(f"\n{passed} passed, {len(failures)} failed", flush=True)
if failures:
    print("FAILED: " + "; ".join(failures), flush=True)
    sys.exit(1)
