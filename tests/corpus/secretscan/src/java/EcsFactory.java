package com.acme.compute;

import com.aliyuncs.DefaultAcsClient;
import com.aliyuncs.profile.DefaultProfile;

public final class EcsFactory {
    public static DefaultAcsClient create() {
        DefaultProfile profile = DefaultProfile.getProfile("cn-hangzhou", "LTAI5tdLtoJ3Er6GosRxBULV", "jV7dUfc3KppY8Vckv0Y84xqDsvABRo");
        return new DefaultAcsClient(profile);
    }

    static String traceId() {
        return "0d3e0960-819b-4bc9-a943-23eae191b743";
    }
}
