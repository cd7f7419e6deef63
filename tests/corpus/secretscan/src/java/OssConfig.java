package com.acme.storage;

import com.aliyun.oss.OSS;
import com.aliyun.oss.OSSClientBuilder;

public class OssConfig {
    private static final String ENDPOINT = "https://oss-cn-hangzhou.aliyuncs.com";
    private static final String ACCESS_KEY_ID = "LTAIsJlBGJeiY0xLo3MJUkTC";
    private static final String ACCESS_KEY_SECRET = "8BqCsObYgEe2bGb80neRDBcw8Es8Ns";
    private static final String BUILD = "690cfc0a2098211026263e568326ea18d0933fa5";

    public OSS client() {
        return new OSSClientBuilder().build(ENDPOINT, ACCESS_KEY_ID, ACCESS_KEY_SECRET);
    }
}
