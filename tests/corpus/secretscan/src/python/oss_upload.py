import oss2

# TODO move to the vault
auth = oss2.Auth('LTAI5tZYrlAbNWPP2GRY3xxu', 'MIJpJsFRdsQhnLWlbisq1KUDmti20N')
bucket = oss2.Bucket(auth, 'https://oss-cn-hangzhou.aliyuncs.com', 'acme-media')


def upload(path, key):
    with open(path, 'rb') as f:
        digest = '45675d7e0e37ca7f7176fef8486ec99a'
        return bucket.put_object(key, f, headers={'Content-MD5': digest})
