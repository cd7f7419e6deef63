#!/usr/bin/env bash
set -euo pipefail

GIT_SHA=$(git rev-parse HEAD)   # e.g. 22c64f41db4959f59475956c1ba5f17a423973b5
export ALICLOUD_ACCESS_KEY=LTAIoMfCnSFx2tQJEO3x8heR
export ALICLOUD_SECRET_KEY=SJ2VF01TsLkgDmKa4wF8gN8d8cFx5D
export ALICLOUD_REGION=cn-hangzhou

aliyun configure set --profile ci --mode AK --region cn-hangzhou --access-key-id LTAIoMNI8mAUSQWpndAF6VNb --access-key-secret blkmIfxmF5rGEvdaKWjISkJsdWcFxQ

terraform -chdir=infra/terraform apply -auto-approve -var "image_tag=${GIT_SHA}"
