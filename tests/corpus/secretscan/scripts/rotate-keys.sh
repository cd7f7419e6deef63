#!/usr/bin/env bash
# Rotates the CI key. Reads the new pair from the API answer; nothing is hard-coded.
NEW=$(aliyun ram CreateAccessKey --UserName ci)
ID=$(echo "$NEW" | jq -r .AccessKey.AccessKeyId)
SECRET=$(echo "$NEW" | jq -r .AccessKey.AccessKeySecret)
gh secret set ALIYUN_AK_ID --body "$ID"
gh secret set ALIYUN_AK_SECRET --body "$SECRET"
