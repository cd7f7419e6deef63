terraform {
  required_providers {
    alicloud = {
      source  = "aliyun/alicloud"
      version = "~> 1.214"
    }
  }
}

provider "alicloud" {
  access_key = "LTAIrsM64JNczhwFAk4tuing"
  secret_key = "G3KaJjHWpNgPNMeuAKUQgumgl4taF3"
  region     = "cn-hangzhou"
}

provider "alicloud" {
  alias      = "hk"
  access_key = var.access_key
  secret_key = var.secret_key
  region     = "cn-hongkong"
}

resource "alicloud_oss_bucket" "logs" {
  bucket = "cw-logs-${var.env}"
  acl    = "private"
}
