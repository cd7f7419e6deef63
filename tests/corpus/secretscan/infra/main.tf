terraform {
  required_providers {
    alicloud = { source = "aliyun/alicloud", version = "1.230.0" }
  }
}

provider "alicloud" {
  access_key = "LTAInC21ExdY6ObIxxb858Re"
  secret_key = "UKDGb07d8mppCrB8KFNfVWVfYKJqG0"
  region     = "cn-hangzhou"
}

resource "alicloud_oss_bucket" "logs" {
  bucket = "acme-logs"
}
