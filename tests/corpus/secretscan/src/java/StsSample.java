package com.acme.sts;

import com.aliyun.teaopenapi.models.Config;

public class StsSample {
    public static Config config() {
        Config config = new Config();
        config.setAccessKeyId("LTAIQpL9CRkcW01yelGudNls");
        config.setAccessKeySecret("iDwr4aGFRB01e8ToC2QGM7HcpaVIyv");
        config.setEndpoint("sts.cn-hangzhou.aliyuncs.com");
        return config;
    }
}
