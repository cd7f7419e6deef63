package creds

import "github.com/aliyun/credentials-go/credentials"

func Load() (credentials.Credential, error) {
	config := new(credentials.Config).
		SetType("access_key").
		SetAccessKeyId("LTAI5tF64fLI8VDCJB5rOZQv").
		SetAccessKeySecret("YT0OWlDKM7uvJgnRpUDyjiCc0JXl1Z")
	return credentials.NewCredential(config)
}
