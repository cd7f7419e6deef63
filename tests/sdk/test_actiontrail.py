#!/usr/bin/env python3
"""Official ActionTrail SDK (alibabacloud-actiontrail20200706) against a running Cloudward:
trail management (CreateTrail, DescribeTrails, UpdateTrail, StartLogging, GetTrailStatus,
StopLogging, DeleteTrail), LookupEvents (filters, paging, direction, events of refused
and unauthenticated calls), with V3 (default) and V2 signing, and the AccessKey audit view
(GetAccessKeyLastUsedInfo/Products/Events/Ips/Resources).

A plain script (no pytest): one line per check, non-zero exit if any failed.
`crates/cli/tests/sdk_actiontrail.rs` starts the server and runs it.
"""

import os
import sys
import time
import traceback

for proxy in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(proxy, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from alibabacloud_actiontrail20200706.client import Client  # noqa: E402
from alibabacloud_actiontrail20200706 import models as at  # noqa: E402
from alibabacloud_tea_openapi import models as open_api_models  # noqa: E402

ENDPOINT = os.environ["CLOUDWARD_TEST_ENDPOINT"]
AK_ID = os.environ["CLOUDWARD_TEST_ACCESS_KEY_ID"]
AK_SECRET = os.environ["CLOUDWARD_TEST_ACCESS_KEY_SECRET"]
ACCOUNT = os.environ.get("CLOUDWARD_TEST_ACCOUNT_ID")

failures = []
passed = 0


def check(name, fn):
    global passed
    started = time.monotonic()
    try:
        detail = fn()
    except Exception as exc:  # noqa: BLE001
        failures.append(name)
        print(f"FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
        traceback.print_exc(file=sys.stdout)
        return
    passed += 1
    print(f"ok   {name} ({detail + ', ' if detail else ''}{(time.monotonic() - started) * 1000:.0f} ms)", flush=True)


def client(algorithm=None, secret=AK_SECRET):
    kwargs = dict(access_key_id=AK_ID, access_key_secret=secret, endpoint=ENDPOINT, protocol="http",
                  region_id="cn-hangzhou", read_timeout=10000, connect_timeout=5000)
    if algorithm:
        kwargs["signature_algorithm"] = algorithm
    return Client(open_api_models.Config(**kwargs))


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def trail_lifecycle(algorithm):
    name = f"sdk-trail-{algorithm or 'v3'}"

    def run():
        c = client(algorithm)
        created = c.create_trail(at.CreateTrailRequest(name=name, oss_bucket_name="sdk-bucket",
                                                       oss_key_prefix="audit-logs", event_rw="All")).body
        expect(created.name == name and created.event_rw == "All", f"create: {created}")
        expect(created.oss_bucket_name == "sdk-bucket", f"create: {created}")
        trails = c.describe_trails(at.DescribeTrailsRequest()).body.trail_list
        mine = [t for t in trails if t.name == name]
        expect(len(mine) == 1 and mine[0].status == "Disable", f"describe: {[t.to_map() for t in trails]}")
        if ACCOUNT:
            expect(mine[0].trail_arn.endswith(f":{ACCOUNT}:trail/{name}"), mine[0].trail_arn)
        c.start_logging(at.StartLoggingRequest(name=name))
        status = c.get_trail_status(at.GetTrailStatusRequest(name=name)).body
        expect(status.is_logging is True, f"status: {status}")
        updated = c.update_trail(at.UpdateTrailRequest(name=name, event_rw="Write")).body
        expect(updated.event_rw == "Write", f"update: {updated}")
        c.stop_logging(at.StopLoggingRequest(name=name))
        expect(c.get_trail_status(at.GetTrailStatusRequest(name=name)).body.is_logging is False, "stop")
        try:
            c.create_trail(at.CreateTrailRequest(name=name))
            raise AssertionError("a duplicate trail was accepted")
        except Exception as exc:  # noqa: BLE001
            expect(getattr(exc, "code", None) == "TrailAlreadyExistsException", f"duplicate: {exc}")
        c.delete_trail(at.DeleteTrailRequest(name=name))
        left = [t.name for t in c.describe_trails(at.DescribeTrailsRequest()).body.trail_list]
        expect(name not in left, f"still there: {left}")
        try:
            c.get_trail_status(at.GetTrailStatusRequest(name=name))
            raise AssertionError("a deleted trail has a status")
        except Exception as exc:  # noqa: BLE001
            expect(getattr(exc, "code", None) == "TrailNotFoundException", f"deleted: {exc}")
        return name
    return run


def lookup(c, attrs=(), **kw):
    req = at.LookupEventsRequest(
        lookup_attribute=[at.LookupEventsRequestLookupAttribute(key=k, value=v) for k, v in attrs], **kw)
    return c.lookup_events(req).body


def lookup_by_event_name(algorithm):
    def run():
        body = lookup(client(algorithm), [("EventName", "CreateTrail")])
        expect(len(body.events) >= 2, f"events: {body.events}")
        for e in body.events:
            expect(e["eventName"] == "CreateTrail", e)
            expect(e["eventVersion"] == 1 and e["serviceName"] == "Actiontrail", e)
            expect(e["userIdentity"]["type"] == "root-account", e)
            if ACCOUNT:
                expect(e["userIdentity"]["accountId"] == ACCOUNT, e)
        names = {e["requestParameters"].get("Name") for e in body.events}
        expect({"sdk-trail-v3", "sdk-trail-v2"} <= names, names)
        expect(body.start_time and body.end_time, "window missing")
        return f"{len(body.events)} events"
    return run


def lookup_paging():
    c = client()
    seen, token, pages = [], None, 0
    while True:
        body = lookup(c, [("EventRW", "Write")], max_results=3, next_token=token)
        pages += 1
        seen.extend(e["eventId"] for e in body.events)
        expect(len(body.events) <= 3, "page too big")
        token = body.next_token
        if not token:
            break
        expect(pages < 100, "paging does not end")
    expect(len(seen) == len(set(seen)), "duplicate events across pages")
    expect(len(seen) >= 10, f"only {len(seen)} write events")
    forward = lookup(c, [("EventRW", "Write")], max_results=50, direction="FORWARD").events
    times = [e["eventTime"] for e in forward]
    expect(times == sorted(times), "FORWARD is not oldest first")
    backward = lookup(c, [("EventRW", "Write")], max_results=50).events
    expect([e["eventTime"] for e in backward] == sorted([e["eventTime"] for e in backward], reverse=True),
           "BACKWARD (default) is not newest first")
    return f"{len(seen)} events in {pages} pages"


def lookup_unauthenticated_and_denied():
    try:
        client(secret="WrongSecretWrongSecretWrong0").describe_trails(at.DescribeTrailsRequest())
        raise AssertionError("a wrong secret was accepted")
    except Exception as exc:  # noqa: BLE001
        expect(getattr(exc, "code", None) == "SignatureDoesNotMatch", f"{exc}")
    body = lookup(client(), [("EventName", "DescribeTrails"), ("EventAccessKeyId", AK_ID)], max_results=50)
    failed = [e for e in body.events if e.get("errorCode") == "SignatureDoesNotMatch"]
    expect(failed, f"no event for the refused call: {body.events}")
    expect(failed[0]["userIdentity"]["type"] == "anonymous", failed[0])
    expect("responseElements" not in failed[0], failed[0])
    expect(all("Signature" not in e["requestParameters"] or e["requestParameters"]["Signature"] == "[REDACTED]"
               for e in body.events), "a signature reached the log")
    return f"{len(failed)} refused"


def lookup_time_window_and_errors():
    c = client()
    body = lookup(c, start_time="2001-01-01T00:00:00Z", end_time="2001-01-02T00:00:00Z")
    expect(body.events == [], "events in 2001")
    try:
        lookup(c, [("NoSuchKey", "x")])
        raise AssertionError("an unknown LookupAttribute key was accepted")
    except Exception as exc:  # noqa: BLE001
        expect(getattr(exc, "code", None) == "InvalidParameter.LookupAttribute", f"{exc}")
    try:
        lookup(c, max_results=51)
        raise AssertionError("MaxResults 51 was accepted")
    except Exception as exc:  # noqa: BLE001
        expect(getattr(exc, "code", None) == "InvalidParameter.MaxResults", f"{exc}")
    one = lookup(c, max_results=1).events[0]
    by_id = lookup(c, [("EventId", one["eventId"])]).events
    expect(len(by_id) == 1 and by_id[0]["eventId"] == one["eventId"], by_id)
    return None


def access_key_last_used():
    c = client()
    products = c.get_access_key_last_used_products(
        at.GetAccessKeyLastUsedProductsRequest(access_key=AK_ID)).body.products
    names = [p.service_name for p in products]
    expect("Actiontrail" in names, f"products: {[p.to_map() for p in products]}")
    trail = [p for p in products if p.service_name == "Actiontrail"][0]
    expect(trail.source == "ManagementEvent", trail.to_map())
    expect(trail.used_timestamp > 1_600_000_000_000, f"UsedTimestamp in ms: {trail.to_map()}")
    expect('"Count"' in (trail.detail or ""), trail.to_map())

    ips = c.get_access_key_last_used_ips(
        at.GetAccessKeyLastUsedIpsRequest(access_key=AK_ID, service_name="Actiontrail")).body.ips
    expect(any(i.ip == "127.0.0.1" for i in ips), f"ips: {[i.to_map() for i in ips]}")
    # V2 signing, a service the key never called: an empty list, not an error.
    none = client("v2").get_access_key_last_used_ips(
        at.GetAccessKeyLastUsedIpsRequest(access_key=AK_ID, service_name="Ecs")).body.ips
    expect(none == [], f"ips for Ecs: {none}")

    info = c.get_access_key_last_used_info(at.GetAccessKeyLastUsedInfoRequest(access_key=AK_ID)).body
    expect(info.access_key_id == AK_ID and info.account_type == "root-account", info.to_map())
    if ACCOUNT:
        expect(info.account_id == ACCOUNT, info.to_map())
    expect(info.used_timestamp >= trail.used_timestamp, info.to_map())

    # Events of one service, one per page: NextToken walks them all.
    seen, token = [], None
    while True:
        body = c.get_access_key_last_used_events(at.GetAccessKeyLastUsedEventsRequest(
            access_key=AK_ID, service_name="Actiontrail", page_size="1", next_token=token)).body
        expect(len(body.events) <= 1, "page too big")
        seen.extend(e.event_name for e in body.events)
        token = body.next_token
        if not token:
            break
        expect(len(seen) < 100, "paging does not end")
    expect("CreateTrail" in seen and "LookupEvents" in seen, f"events: {seen}")
    expect(len(seen) == len(set(seen)), f"duplicates across pages: {seen}")

    resources = c.get_access_key_last_used_resources(at.GetAccessKeyLastUsedResourcesRequest(
        access_key=AK_ID, service_name="Actiontrail")).body
    expect(isinstance(resources.resources, list), resources.to_map())

    # An unknown key (or another account's) is not found.
    try:
        c.get_access_key_last_used_products(
            at.GetAccessKeyLastUsedProductsRequest(access_key="LTAI5tNoSuchKeyNoSuchKey"))
        raise AssertionError("an unknown AccessKey was answered")
    except Exception as exc:  # noqa: BLE001
        expect(getattr(exc, "code", None) == "EntityNotExist.AccessKey", f"{exc}")
    return f"{len(products)} products, {len(ips)} ips, {len(seen)} events"


check("trail lifecycle (tea, V3)", trail_lifecycle(None))
check("trail lifecycle (tea, V2)", trail_lifecycle("v2"))
check("LookupEvents by EventName (V3)", lookup_by_event_name(None))
check("LookupEvents by EventName (V2)", lookup_by_event_name("v2"))
check("LookupEvents paging and direction", lookup_paging)
check("LookupEvents shows refused, unauthenticated calls", lookup_unauthenticated_and_denied)
check("LookupEvents window, EventId and parameter errors", lookup_time_window_and_errors)
check("GetAccessKeyLastUsed* (products, IPs, info, events paging, resources, unknown key)",
      access_key_last_used)

print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
