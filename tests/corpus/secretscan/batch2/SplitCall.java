class SplitCall {
    static DefaultAcsClient client() {
        return new DefaultAcsClient(DefaultProfile.getProfile("cn-hangzhou",
                "LTAI5t8jWuSib7WfCj7jeDcE",
                "ucEhHw3T7d6VIRFdMJp5MS9qXWEeSg"));
    }
}
