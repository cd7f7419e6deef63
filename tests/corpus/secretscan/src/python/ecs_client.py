from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest

client = AcsClient("LTAILqlEtQeTrYFfqUmVN6cm", "TEDHEH9DBu0DW768x0zY6oDr0zvKvT", "cn-hangzhou")


def instances():
    request = DescribeInstancesRequest()
    request.set_PageSize(100)
    return client.do_action_with_exception(request)
