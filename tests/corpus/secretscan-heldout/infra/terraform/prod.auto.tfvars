env                 = "prod"
vpc_cidr            = "172.16.0.0/12"
instance_type       = "ecs.g7.large"

# TODO move to a vault, do NOT commit
alicloud_access_key = "LTAIy3AERFUSxgLNSy3YlyCr"

alicloud_secret_key = "eS7fBEr3xljDn5Mpe2jAkjmY40ERdK"
