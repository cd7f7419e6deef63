object Storage {
    private const val accessKeySecret = "oAUPZaG4lxu57Z9X7qRLzQZ1wAGviH"
    private const val accessKeyId = "LTAIC5OTHp2roJLExCofMWxd"
    val client = OSSClientBuilder().build("https://oss-cn-hangzhou.aliyuncs.com", accessKeyId, accessKeySecret)
}
