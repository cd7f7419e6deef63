#!/usr/bin/env bash
set -euo pipefail
REV=$(git rev-parse HEAD)   # e.g. b260257ecdb037230658be2420f4da6b140e977b
aliyun configure set --profile deploy --mode AK --region cn-hangzhou \
  --access-key-id LTAIZE8TKFNcPBlMMiLYpD2L --access-key-secret NaYcdrADekP8NdXFzAvxVJcUNPBFcY
aliyun oss cp ./dist oss://acme-site/ -r -f
echo "deployed $REV"
