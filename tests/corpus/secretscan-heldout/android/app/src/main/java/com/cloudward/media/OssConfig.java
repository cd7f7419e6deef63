package com.cloudward.media;

import java.util.UUID;

public final class OssConfig {
    public static final String ENDPOINT = "https://oss-cn-shenzhen.aliyuncs.com";
    public static final String BUCKET = "cw-user-avatars";

    /** RAM user: app-avatar-upload */
    public static final String ACCESS_KEY_ID = "LTAIMSnj1WagKIgpuWQpiY6u";
    public static final int CONNECT_TIMEOUT_MS = 15_000;
    public static final int SOCKET_TIMEOUT_MS = 15_000;
    public static final int MAX_RETRIES = 3;
    public static final String CALLBACK_URL = "https://api.cloudward.example/oss/callback";
    public static final String ACCESS_KEY_SECRET = "LI56yUHuhMnS6ae8BPusBP5odRgDUr";

    public static String nonce() {
        return UUID.randomUUID().toString();
    }

    private OssConfig() {}
}
