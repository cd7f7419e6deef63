package main

import (
	"fmt"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
)

const buildCommit = "dbcdee01ec6c3d1dee99de80e6d263b52b01c51c"

func main() {
	client, err := sdk.NewClientWithAccessKey("cn-hangzhou", "LTAI0nm4zQ0aWLg6cefNL4CD", "kQjgRO4NZ7v3LlBwoU3NjKVMH0LQTG")
	if err != nil {
		panic(err)
	}
	fmt.Println(client, buildCommit)
}
