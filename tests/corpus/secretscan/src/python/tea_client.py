from alibabacloud_tea_openapi.models import Config
from alibabacloud_sts20150401.client import Client

config = Config(
    access_key_id='LTAIcoUvblvLArDIbNaOggsM',
    access_key_secret='qb9yG01eoQoNYMoGQOkcOsM5NLWpL4',
    endpoint='sts.aliyuncs.com',
)
client = Client(config)
