package main

import (
	"log"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func main() {
	cred := credentials.NewAccessKeyCredential("LTAIAx67e9nuBEVWh7JgMLX2", "oySxxaL8ilHo6Khj8u0aBXemjX90CF")
	client, err := ecs.NewClientWithOptions("cn-hangzhou", sdk.NewConfig(), cred)
	if err != nil {
		log.Fatal(err)
	}
	_ = client

	// reproduce the STS expiry bug (ticket OPS-2417)
	stsClient, err := ecs.NewClientWithStsToken(
		"cn-shanghai",
		"STS.ipLvNj6AQTXG8UDPQtXkbxNpU",
		"48oEkdSHHewszlCfiR2c0bpEOqoFEXpgDR0xttrx5bn9",
		"CAISRRvDgzOZ161DWYDssEG5aSnLBIO4XWTLu/IrzuJLJXyCzBHfdUog2uaOArR0Jb7hXS2tM+5eDii4dUb+MxPRMIe6+hqgD2f+zKpXN49YCoqflSQ4w9SGRgO9NlSwIeA2bfSAZlM5fPmdhsDdBzPP90BnClp0ekcTNZcSU0NCyHbXviYqDxWKt9vur6jx5pflDjKE3zQAZVUnYcWkGHx3TdvuIw1b2xVlREhVXHEBGg8rTYWNa/IPFLJOcylTijjb6h6wsOd8CXJhyLjR37DKapwdP1tD38UYY+3Ydy4s4mq4==",
	)
	if err != nil {
		log.Fatal(err)
	}
	_ = stsClient
}
