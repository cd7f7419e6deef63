package creds

import "os"

// Keys come from the environment; the literals below are hashes of fixtures.
var (
	accessKeyID     = os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
	accessKeySecret = os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	fixtureSHA1     = "071ce3b839fea2715292b7ea6097603f2be81695"
	fixtureSHA256   = "9d200311935eb7e494930ae62929b6efc58cec554d1123d0ce92d20efe43edd2"
)
