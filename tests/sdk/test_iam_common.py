"""Shared plumbing for the IAM official-SDK scripts (`test_iam.py`, `test_iam_rd.py`,
`test_iam_expiry.py`): environment, SDK client factories, one-line checks, error assertions,
and the known-failure bookkeeping.

Not a test by itself. Every check prints exactly one result line:

    ok   <name> (<detail>, <ms>)
    FAIL <name>: <why>                       (followed by the traceback)
    KNOWN-FAIL <name>: <why> [bug: <ref>]    (a failure already written down in KNOWN_FAILURES)

`finish()` prints the totals and the list of known failures, and exits non-zero when anything
failed, known or not: a known failure is documented, never hidden.
"""

import json
import os
import sys
import time
import traceback

for _proxy in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_proxy, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
for _var in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
             "ALIBABA_CLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_CREDENTIALS_FILE"):
    os.environ.pop(_var, None)

ENDPOINT = os.environ["CLOUDWARD_TEST_ENDPOINT"]  # host:port
AK_ID = os.environ["CLOUDWARD_TEST_ACCESS_KEY_ID"]
AK_SECRET = os.environ["CLOUDWARD_TEST_ACCESS_KEY_SECRET"]
ACCOUNT = os.environ["CLOUDWARD_TEST_ACCOUNT_ID"]
HOST, PORT = ENDPOINT.rsplit(":", 1)

from alibabacloud_tea_openapi import models as open_api_models  # noqa: E402
from alibabacloud_ram20150501.client import Client as RamClient  # noqa: E402
from alibabacloud_ram20150501 import models as ram_models  # noqa: E402
from alibabacloud_sts20150401.client import Client as StsClient  # noqa: E402
from alibabacloud_sts20150401 import models as sts_models  # noqa: E402

# ---------------------------------------------------------------- results

_failures = []
_known = []
_passed = 0
# check name -> bug reference; filled by each script before it runs its checks.
KNOWN_FAILURES = {}


def check(name, fn):
    """Runs one check and prints one line; returns fn's result, or None when it failed.

    fn returns either a detail string, or a tuple (detail, value) to hand a value on.
    """
    global _passed
    started = time.monotonic()
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 - report every failure, then go on
        if name in KNOWN_FAILURES:
            _known.append((name, KNOWN_FAILURES[name], f"{type(exc).__name__}: {exc}"))
            print(f"KNOWN-FAIL {name}: {type(exc).__name__}: {_short(exc)} [bug: {KNOWN_FAILURES[name]}]",
                  flush=True)
        else:
            _failures.append(name)
            print(f"FAIL {name}: {type(exc).__name__}: {_short(exc)}", flush=True)
            traceback.print_exc(file=sys.stdout)
        return None
    value = None
    detail = result
    if isinstance(result, tuple):
        detail, value = result
    _passed += 1
    elapsed = f"{(time.monotonic() - started) * 1000:.0f} ms"
    note = ""
    if name in KNOWN_FAILURES:
        note = " -- listed in KNOWN_FAILURES but passed now: remove it from the list"
        _failures.append(f"{name} (stale KNOWN_FAILURES entry)")
    print(f"ok   {name} ({detail + ', ' if detail else ''}{elapsed}){note}", flush=True)
    return value if value is not None else True


def _short(exc):
    text = str(exc).replace("\n", " ")
    return text if len(text) < 600 else text[:600] + "..."


def finish(script):
    print(f"\n{script}: {_passed} passed, {len(_failures)} failed, {len(_known)} known failures", flush=True)
    if _known:
        print("KNOWN FAILURES (server bugs / SDK incompatibilities, documented, still failing):", flush=True)
        for name, bug, error in _known:
            print(f"  - {name}\n      bug: {bug}\n      got: {_short(error)}", flush=True)
    if _failures:
        print("FAILED: " + "; ".join(_failures), flush=True)
    sys.exit(1 if (_failures or _known) else 0)


class CheckError(AssertionError):
    pass


def expect(cond, message):
    if not cond:
        raise CheckError(message)


# ---------------------------------------------------------------- clients


def config(ak_id=AK_ID, secret=AK_SECRET, token=None, algorithm=None):
    kwargs = dict(
        access_key_id=ak_id,
        access_key_secret=secret,
        endpoint=ENDPOINT,
        protocol="http",
        region_id="cn-hangzhou",
        read_timeout=15000,
        connect_timeout=5000,
    )
    if token is not None:
        kwargs["security_token"] = token
    if algorithm is not None:
        kwargs["signature_algorithm"] = algorithm
    return open_api_models.Config(**kwargs)


def ram(ak_id=AK_ID, secret=AK_SECRET, token=None, algorithm=None):
    return RamClient(config(ak_id, secret, token, algorithm))


def sts(ak_id=AK_ID, secret=AK_SECRET, token=None, algorithm=None):
    return StsClient(config(ak_id, secret, token, algorithm))


def session_ram(creds, algorithm=None):
    """A RAM client acting as an STS session (`creds` = AssumeRole's Credentials model)."""
    return ram(creds.access_key_id, creds.access_key_secret, creds.security_token, algorithm)


def session_sts(creds, algorithm=None):
    return sts(creds.access_key_id, creds.access_key_secret, creds.security_token, algorithm)


def classic_caller_identity(ak_id, secret, token=None):
    """GetCallerIdentity through the classic core (`StsTokenCredential` when `token`)."""
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.auth.credentials import AccessKeyCredential, StsTokenCredential
    from aliyunsdksts.request.v20150401.GetCallerIdentityRequest import GetCallerIdentityRequest

    credential = StsTokenCredential(ak_id, secret, token) if token else AccessKeyCredential(ak_id, secret)
    client = AcsClient(credential=credential, region_id="cn-hangzhou", port=int(PORT), auto_retry=False,
                       max_retry_time=0, timeout=15, connect_timeout=5)
    req = GetCallerIdentityRequest()
    req.set_endpoint(HOST)
    req.set_protocol_type("http")
    return json.loads(client.do_action_with_exception(req))


def doc(*statements):
    return json.dumps({"Version": "1", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return dict(Effect="Allow", Action=action, Resource=resource, **extra)


def deny(action, resource="*", **extra):
    return dict(Effect="Deny", Action=action, Resource=resource, **extra)


def trust(principal=None, condition=None):
    stmt = {"Action": "sts:AssumeRole", "Effect": "Allow",
            "Principal": {"RAM": [principal or f"acs:ram::{ACCOUNT}:root"]}}
    if condition:
        stmt["Condition"] = condition
    return json.dumps({"Version": "1", "Statement": [stmt]})


# ---------------------------------------------------------------- errors


def expect_error(call, code, status, detail=None):
    """Runs `call` (no arguments) and requires an SDK exception with `code` and HTTP `status`.

    `detail`: a dict of AccessDeniedDetail fields that must match (the detail must be present
    in both `e.access_denied_detail` and `e.data["AccessDeniedDetail"]`). Returns a one-line
    description including the detail when there is one.
    """
    try:
        resp = call()
    except Exception as exc:  # tea ClientException / ServerException
        got_code = getattr(exc, "code", None)
        got_status = getattr(exc, "status_code", None)
        if got_code != code or got_status != status:
            raise CheckError(f"expected {code} HTTP {status}, got {type(exc).__name__} code={got_code!r} "
                             f"HTTP {got_status!r}: {_short(exc)}") from exc
        request_id = getattr(exc, "request_id", None)
        if not request_id or request_id == "None":
            raise CheckError(f"no RequestId in the error: {exc}") from exc
        for secret in (AK_SECRET,):
            if secret in str(exc):
                raise CheckError("an AccessKey secret appears in the error") from exc
        line = f"{type(exc).__name__} {got_code} HTTP {got_status}"
        if detail is not None:
            data = getattr(exc, "data", None) or {}
            in_data = data.get("AccessDeniedDetail")
            attr = getattr(exc, "access_denied_detail", None)
            if not in_data:
                raise CheckError(f"no AccessDeniedDetail in e.data: {json.dumps(data)}") from exc
            if attr != in_data:
                raise CheckError(f"e.access_denied_detail {attr!r} != e.data['AccessDeniedDetail'] {in_data!r}") from exc
            for key in ("AuthAction", "NoPermissionType", "PolicyType", "AuthPrincipalType",
                        "AuthPrincipalOwnerId", "AuthPrincipalDisplayName"):
                if key not in in_data:
                    raise CheckError(f"AccessDeniedDetail lacks {key}: {in_data}") from exc
            for key, want in detail.items():
                if in_data.get(key) != want:
                    raise CheckError(f"AccessDeniedDetail.{key} = {in_data.get(key)!r}, expected {want!r}; "
                                     f"detail: {json.dumps(in_data)}") from exc
            line += " AccessDeniedDetail=" + json.dumps(in_data, sort_keys=True)
        return line
    body = getattr(resp, "body", resp)
    raise CheckError(f"expected {code} HTTP {status}, but the call succeeded: {_to_map(body)}")


def _to_map(body):
    try:
        return json.dumps(body.to_map())
    except Exception:  # noqa: BLE001
        return repr(body)


def ok(resp):
    """A successful tea response: HTTP 200 and a RequestId; returns the body."""
    expect(resp.status_code == 200, f"HTTP {resp.status_code}")
    expect(bool(resp.body.request_id), f"no RequestId in {_to_map(resp.body)}")
    return resp.body


def raw_call(client, action, version, query):
    """An RPC call through the tea base client's generic `call_api`, returning the raw JSON body
    (to look at fields the generated models would drop)."""
    from alibabacloud_tea_openapi.utils_models import OpenApiRequest, Params
    from darabonba.runtime import RuntimeOptions
    from alibabacloud_tea_openapi.utils import Utils

    params = Params(action=action, version=version, protocol="HTTPS", pathname="/", method="POST",
                    auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
    req = OpenApiRequest(query=Utils.query(query))
    return client.call_api(params, req, RuntimeOptions())["body"]
