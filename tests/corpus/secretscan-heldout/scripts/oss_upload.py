#!/usr/bin/env python3
import hashlib
import sys

import oss2

EXPECTED_ETAG = "B76C2474CD670721BCA46978BB5C6D66"
BLOB_SHA1 = "305645f76fe90b5fb46d8b9cb8c803138f7eb9a7"

auth = oss2.Auth('LTAIY6yERhW1sOxxTJbG4S7z', '4MiA58564RK8aCzuEHWClgoDKZld50')
bucket = oss2.Bucket(auth, 'https://oss-cn-hangzhou.aliyuncs.com', 'nightly-builds')


def upload(path):
    with open(path, 'rb') as f:
        data = f.read()
    print(hashlib.sha1(data).hexdigest())
    result = bucket.put_object(path.split('/')[-1], data)
    assert result.etag == EXPECTED_ETAG, result.etag


if __name__ == '__main__':
    upload(sys.argv[1])
