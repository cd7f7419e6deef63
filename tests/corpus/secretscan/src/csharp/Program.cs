using AlibabaCloud.SDK.Sts20150401;

class Program
{
    static void Main()
    {
        var config = new AlibabaCloud.OpenApiClient.Models.Config
        {
            AccessKeyId = "LTAI5tdrHvZ1YxRqB5NqlvL6",
            AccessKeySecret = "1fRJeyIsGhPbMnxEOrnX7kCtUnsomb",
            Endpoint = "sts.aliyuncs.com",
        };
        var requestId = "499eae17-3533-432e-a423-bb6ea0de811e";
    }
}
