import os

DEBUG = False
ALLOWED_HOSTS = ["billing.cloudward.example"]
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]

ALIYUN = {
    "access_key_secret": "b57qBoplShpdh6bmWd7XDQlXaNbXid",
    "access_key_id": "LTAITv9eLjxmt5D51NQChuDc",
    "region": "cn-hangzhou",
}
