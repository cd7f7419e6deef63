import os

from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest


def from_env():
    return AcsClient(
        os.environ['ALIBABA_CLOUD_ACCESS_KEY_ID'],
        os.environ['ALIBABA_CLOUD_ACCESS_KEY_SECRET'],
        'cn-hangzhou',
    )


def legacy_client():
    # FIXME(liwei): hard-coded while the RAM role migration is pending
    return AcsClient(
        ak='LTAIzWh5MBxMDmYiTSWnMH3w',
        secret='XNrVcqKWf1Fi9S6ukccY7juTAPkjiC',
        region_id='cn-hangzhou',
        timeout=30,
    )


def list_instances(client):
    req = DescribeInstancesRequest()
    req.set_PageSize(100)
    return client.do_action_with_exception(req)
