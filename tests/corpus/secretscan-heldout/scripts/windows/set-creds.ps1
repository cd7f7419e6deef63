
# run once on the build agent
$env:ALIBABA_CLOUD_ACCESS_KEY_ID = "LTAIwT3T1reo6ths0f1tqHdX"
$env:ALIBABA_CLOUD_ACCESS_KEY_SECRET = "tAEAYPZ7gvPkcxObDvWYjemRgIj7J3"
[Environment]::SetEnvironmentVariable("OSS_REGION", "cn-hangzhou", "Machine")
