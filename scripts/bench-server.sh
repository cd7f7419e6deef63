#!/usr/bin/env bash
# End-to-end server benchmarks behind docs/benchmarks.md: a release `cloudward serve` on a
# fresh data dir and `cloudward bench` (keep-alive load generator) on the same machine.
# Usage: scripts/bench-server.sh [path-to-release-binary]   (default: target/release/cloudward)
set -euo pipefail
CW=${1:-target/release/cloudward}
PORT=${PORT:-18399}
DATA=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
export CLOUDWARD_ROOT_ACCESS_KEY_ID=LTAIbenchbenchbenchbench
export CLOUDWARD_ROOT_ACCESS_KEY_SECRET=benchsecretbenchsecret0123456789
"$CW" serve --data-dir "$DATA" --listen 127.0.0.1:$PORT --log warn >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -sf 127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
export CLOUDWARD_CONFIG_FILE=$DATA/client.json CLOUDWARD_ENDPOINT=http://127.0.0.1:$PORT
export CLOUDWARD_ACCESS_KEY_ID=$CLOUDWARD_ROOT_ACCESS_KEY_ID CLOUDWARD_ACCESS_KEY_SECRET=$CLOUDWARD_ROOT_ACCESS_KEY_SECRET
B="$CW bench --connections ${CONNS:-32} --duration ${SECS:-10} --warmup 2"

echo "## 1. signed GetCallerIdentity (V3) vs unauthenticated /healthz, root identity"
$B
echo "## 2. the same with V2 signatures"
$B --signature v2 --target caller-identity

# A RAM user with a system policy and its own AccessKey, for the authorization cost.
"$CW" call Ram CreateUser UserName=alice >/dev/null
"$CW" call Ram CreateUser UserName=bob >/dev/null
"$CW" call Ram AttachPolicyToUser UserName=alice PolicyType=System PolicyName=AliyunRAMReadOnlyAccess >/dev/null
KEY=$("$CW" call Ram CreateAccessKey UserName=alice)
AK=$(echo "$KEY" | python3 -c 'import json,sys;print(json.load(sys.stdin)["AccessKey"]["AccessKeyId"])')
SK=$(echo "$KEY" | python3 -c 'import json,sys;print(json.load(sys.stdin)["AccessKey"]["AccessKeySecret"])')
echo "## 3. writes as root: UpdateUser and TagResources (each a store write + audit event)"
$B --action Ram:UpdateUser --param UserName=bob --param 'NewDisplayName=d{n}'
$B --action Ram:TagResources --param ResourceType=user --param 'ResourceNames=["bob"]' --param 'Tag=[{"Key":"k","Value":"v{n}"}]'
echo "## 4. authorization: a RAM user, GetCallerIdentity (no policy decision) vs GetUser (policy decision)"
CLOUDWARD_ACCESS_KEY_ID=$AK CLOUDWARD_ACCESS_KEY_SECRET=$SK $B --target caller-identity
CLOUDWARD_ACCESS_KEY_ID=$AK CLOUDWARD_ACCESS_KEY_SECRET=$SK $B --action Ram:GetUser --param UserName=alice
echo "## 5. root GetUser (same handler, owner rule instead of attached policies)"
$B --action Ram:GetUser --param UserName=alice
