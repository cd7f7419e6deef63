require 'aliyun/oss'

client = Aliyun::OSS::Client.new(
  :endpoint => 'https://oss-cn-hangzhou.aliyuncs.com',
  :access_key_id => 'LTAIg11Ow62CLXaJbjx0VyVT',
  :access_key_secret => 'Tp0awTI44rYu9zCyrJS8D4lpTrrRKw')
bucket = client.get_bucket('acme-ruby')
