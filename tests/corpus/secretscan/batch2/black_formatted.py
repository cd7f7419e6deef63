from aliyunsdkcore.client import AcsClient

client = AcsClient(
    "LTAIQwBjYHeQZSvqpx7VizZQ",
    "j2GejajGJ4jmCFdWh6iYas7JBAojmX",
    "cn-shanghai",
)
