#!/usr/bin/env python3
"""Generates the secret-scanning corpus: realistic files with AccessKey pairs (freshly
random, in the real formats; they are not credentials of any account) and look-alikes,
plus manifest.json listing every pair the scanner must report ({file, line, id}).

Run from anywhere: python3 tests/corpus/secretscan/generate.py
The output is deterministic (fixed seed), so re-running it changes nothing unless this
script changed. In templates:
  {ID:name}   a fresh LTAI + 20 id     {SEC:name}  a fresh 30-character secret
  {ID16:name} an older LTAI + 12 id    {STS:name}  an STS id   {STSSEC:name} a 44-char secret
  {HEX32} {HEX40} {HEX64} {UUID} {B64:n} random look-alikes
and every line holding an id that must be reported ends with the marker  <<FIND
(removed from the output).
"""

import hashlib
import json
import os
import random
import re
import string

HERE = os.path.dirname(os.path.abspath(__file__))
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
rng = random.Random(20261207)


def b62(n):
    while True:
        s = "".join(rng.choice(B62) for _ in range(n))
        # Same acceptance a real generator has: none. But avoid accidental placeholder
        # words so the corpus measures the heuristics, not luck.
        low = s.lower()
        if not any(w in low for w in ("test", "your", "xxxx", "fake", "mask")):
            return s


def hexs(n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def uuid():
    h = hexs(32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def b64(n):
    alphabet = string.ascii_letters + string.digits + "+/"
    return "".join(rng.choice(alphabet) for _ in range(n)) + "=="


FILES = {}


def add(path, text):
    FILES[path] = text


# ---------------------------------------------------------------- configuration files

add("configs/aliyun-cli-config.json", """{
  "current": "default",
  "profiles": [
    {
      "name": "default",
      "mode": "AK",
      "access_key_id": "{ID:a}", <<FIND
      "access_key_secret": "{SEC:a}",
      "sts_token": "",
      "region_id": "cn-hangzhou",
      "output_format": "json",
      "language": "en"
    },
    {
      "name": "prod",
      "mode": "AK",
      "access_key_id": "{ID:b}", <<FIND
      "access_key_secret": "{SEC:b}",
      "region_id": "cn-shanghai"
    },
    {
      "name": "temp",
      "mode": "StsToken",
      "access_key_id": "{STS:c}", <<FIND
      "access_key_secret": "{STSSEC:c}",
      "sts_token": "CAIS{B64:300}",
      "region_id": "cn-beijing"
    },
    {
      "name": "ci",
      "mode": "RamRoleArn",
      "access_key_id": "",
      "access_key_secret": "",
      "ram_role_arn": "acs:ram::1234567890123456:role/ci-deployer"
    }
  ],
  "meta_path": ""
}
""")

add("configs/credentials.ini", """[default]
enable = true
type = access_key
access_key_id = {ID:a}  <<FIND
access_key_secret = {SEC:a}

[project1]
type = access_key
access_key_id = {ID:b}   <<FIND
access_key_secret = {SEC:b}

[client2]
type = access_key
access_key_id = <your-access-key-id>
access_key_secret = <your-access-key-secret>

[client3]
type = ecs_ram_role
role_name = EcsRamRoleTest
""")

add("configs/application.yaml", """spring:
  application:
    name: order-service
  cloud:
    alicloud:
      access-key: {ID:a} <<FIND
      secret-key: {SEC:a}
      oss:
        endpoint: oss-cn-hangzhou.aliyuncs.com
        bucket: order-archive
  datasource:
    url: jdbc:mysql://rm-bp1{HEX32}.mysql.rds.aliyuncs.com:3306/orders
    username: orders
    password: {SEC:dbpw}
management:
  endpoints:
    web:
      exposure:
        include: health,info
""")

add("configs/settings.toml", """[server]
listen = "0.0.0.0:8080"
workers = 4

[aliyun]
region = "cn-hangzhou"
access_key_id = "{ID:a}" <<FIND
access_key_secret = "{SEC:a}"

[cache]
key_digest = "{HEX64}"
build_sha = "{HEX40}"
instance = "{UUID}"
""")

add("configs/appsettings.json", """{
  "Logging": { "LogLevel": { "Default": "Information" } },
  "AlibabaCloud": {
    "RegionId": "cn-hangzhou",
    "AccessKeyId": "{ID:a}", <<FIND
    "AccessKeySecret": "{SEC:a}",
    "Endpoint": "ecs.cn-hangzhou.aliyuncs.com"
  },
  "ConnectionStrings": { "Default": "Server=db;Database=app;User Id=app;Password=p4ss;" },
  "Build": { "Commit": "{HEX40}", "Id": "{UUID}" }
}
""")

add("configs/maven-settings.xml", """<settings>
  <servers>
    <server>
      <id>aliyun-oss</id>
      <configuration>
        <AccessKeyId>{ID:a}</AccessKeyId> <<FIND
        <AccessKeySecret>{SEC:a}</AccessKeySecret>
        <Endpoint>oss-cn-hangzhou.aliyuncs.com</Endpoint>
      </configuration>
    </server>
    <server>
      <id>placeholder-server</id>
      <configuration>
        <AccessKeyId>${env.OSS_ACCESS_KEY_ID}</AccessKeyId>
        <AccessKeySecret>${env.OSS_ACCESS_KEY_SECRET}</AccessKeySecret>
      </configuration>
    </server>
  </servers>
</settings>
""")

add("configs/cloudward-profile.json", """{
  "current": "default",
  "profiles": {
    "default": {
      "endpoint": "http://127.0.0.1:18080",
      "access_key_id": "{ID:a}", <<FIND
      "access_key_secret": "{SEC:a}",
      "region": "cn-hangzhou"
    },
    "ops": {
      "endpoint": "https://cloudward.internal:18443",
      "access_key_id": "{ID:b}", <<FIND
      "access_key_secret": "{SEC:b}",
      "region": "cn-shanghai"
    }
  }
}
""")

add("configs/legacy.properties", """# legacy batch job
aliyun.region=cn-hangzhou
aliyun.accessKeyId={ID16:a} <<FIND
aliyun.accessKeySecret={SEC:a}
aliyun.oss.bucket=legacy-batch
job.checksum={HEX32}
""")

add("configs/vars.yml", """---
# ansible group vars for the web tier
web_port: 443
alicloud_region: cn-hangzhou
alicloud_access_key: "{ID:a}" <<FIND
alicloud_secret_key: "{SEC:a}"
deploy_user: deploy
release_hash: "{HEX40}"
""")

add("configs/helm-values.yaml", """image:
  repository: registry.cn-hangzhou.aliyuncs.com/acme/api
  tag: "1.8.2"
aliyun:
  accessKeyId: "{{ .Values.global.aliyunAccessKeyId }}"
  accessKeySecret: "{{ .Values.global.aliyunAccessKeySecret }}"
  # filled in by the pipeline
  region: ${ALIYUN_REGION}
podAnnotations:
  checksum/config: {HEX64}
""")

add("configs/template.env.example", """# Copy to .env and fill in
ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIxxxxxxxxxxxxxxxxxxxx
ALIBABA_CLOUD_ACCESS_KEY_SECRET=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
ALIBABA_CLOUD_REGION_ID=cn-hangzhou
OSS_BUCKET=my-bucket
""")

add("configs/placeholders.ini", """[aliyun]
access_key_id = LTAIYourAccessKeyIdHere1
access_key_secret = YourAccessKeySecretGoesHere123

[aliyun-2]
access_key_id = LTAI00000000000000000000
access_key_secret = 000000000000000000000000000000

[aliyun-3]
access_key_id = LTAIabcdefghijklmnopqrst
access_key_secret = abcdefghijklmnopqrstuvwxyzABCD

[aliyun-4]
access_key_id = LTAIEXAMPLEKEYID12345678
access_key_secret = EXAMPLESECRETKEY12345678901234

[aliyun-5]
access_key_id = LTAI%s
access_key_secret = %s

[aliyun-6]
access_key_id = LTAIAbAbAbAbAbAbAbAbAbAb
access_key_secret = XyXyXyXyXyXyXyXyXyXyXyXyXyXyXy
""")

# ---------------------------------------------------------------- environment and shell

add("env/production.env", """NODE_ENV=production
PORT=3000
ALIBABA_CLOUD_ACCESS_KEY_ID={ID:a} <<FIND
ALIBABA_CLOUD_ACCESS_KEY_SECRET={SEC:a}
SESSION_SECRET={B64:40}
REDIS_URL=redis://r-bp1{HEX32}.redis.rds.aliyuncs.com:6379
""")

add("env/staging.env", """# staging
export OSS_ACCESS_KEY_ID={ID:a} <<FIND
export OSS_ACCESS_KEY_SECRET={SEC:a}
export SENTRY_DSN=https://{HEX32}@o0.ingest.sentry.io/42
export BUILD_ID={UUID}
""")

add("env/cloudward.env", """CLOUDWARD_ENDPOINT=http://127.0.0.1:18080
CLOUDWARD_ACCESS_KEY_ID={ID:a} <<FIND
CLOUDWARD_ACCESS_KEY_SECRET={SEC:a}
""")

add("env/sts-session.env", """# written by assume-role.sh at 2026-03-02T10:14:00Z
ALIBABA_CLOUD_ACCESS_KEY_ID={STS:a} <<FIND
ALIBABA_CLOUD_ACCESS_KEY_SECRET={STSSEC:a}
ALIBABA_CLOUD_SECURITY_TOKEN=CAIS{B64:400}
""")

add("scripts/deploy.sh", """#!/usr/bin/env bash
set -euo pipefail
REV=$(git rev-parse HEAD)   # e.g. {HEX40}
aliyun configure set --profile deploy --mode AK --region cn-hangzhou \\
  --access-key-id {ID:a} --access-key-secret {SEC:a} <<FIND
aliyun oss cp ./dist oss://acme-site/ -r -f
echo "deployed $REV"
""")

add("scripts/backup.sh", """#!/bin/sh
# nightly backup to OSS
ossutil64 config -e oss-cn-hangzhou.aliyuncs.com -i {ID:a} -k {SEC:a} <<FIND
ossutil64 cp /var/backups/db.tar.gz oss://acme-backup/$(date +%F)/
sha256sum /var/backups/db.tar.gz  # {HEX64}
""")

add("scripts/rotate-keys.sh", """#!/usr/bin/env bash
# Rotates the CI key. Reads the new pair from the API answer; nothing is hard-coded.
NEW=$(aliyun ram CreateAccessKey --UserName ci)
ID=$(echo "$NEW" | jq -r .AccessKey.AccessKeyId)
SECRET=$(echo "$NEW" | jq -r .AccessKey.AccessKeySecret)
gh secret set ALIYUN_AK_ID --body "$ID"
gh secret set ALIYUN_AK_SECRET --body "$SECRET"
""")

add("scripts/curl-call.sh", """#!/bin/sh
# debugging a signature mismatch, do not commit
curl -s "https://ram.aliyuncs.com/?Action=ListUsers&Version=2015-05-01&AccessKeyId={ID:a}&AccessKeySecret={SEC:a}&SignatureNonce={UUID}" <<FIND
""")

# ---------------------------------------------------------------- source code

add("src/python/oss_upload.py", """import oss2

# TODO move to the vault
auth = oss2.Auth('{ID:a}', '{SEC:a}') <<FIND
bucket = oss2.Bucket(auth, 'https://oss-cn-hangzhou.aliyuncs.com', 'acme-media')


def upload(path, key):
    with open(path, 'rb') as f:
        digest = '{HEX32}'
        return bucket.put_object(key, f, headers={'Content-MD5': digest})
""")

add("src/python/ecs_client.py", """from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest

client = AcsClient("{ID:a}", "{SEC:a}", "cn-hangzhou") <<FIND


def instances():
    request = DescribeInstancesRequest()
    request.set_PageSize(100)
    return client.do_action_with_exception(request)
""")

add("src/python/settings.py", """import os

DEBUG = False
SECRET_KEY = '{SEC:django}'
ALLOWED_HOSTS = ['api.acme.cn']
ALIBABA_CLOUD = {
    'access_key_id': os.environ['ALIBABA_CLOUD_ACCESS_KEY_ID'],
    'access_key_secret': os.environ['ALIBABA_CLOUD_ACCESS_KEY_SECRET'],
}
CACHE_VERSION = '{HEX40}'
""")

add("src/python/tea_client.py", """from alibabacloud_tea_openapi.models import Config
from alibabacloud_sts20150401.client import Client

config = Config(
    access_key_id='{ID:a}', <<FIND
    access_key_secret='{SEC:a}',
    endpoint='sts.aliyuncs.com',
)
client = Client(config)
""")

add("src/python/test_signing.py", """import unittest

# Fixtures from the public signature documentation: not credentials.
ACCESS_KEY_ID = 'testid'
ACCESS_KEY_SECRET = 'testsecret'
EXPECTED = 'kRA2cnpJVacIhDMzXnoNZG9tDCI='
NONCE = '{UUID}'


class SigningTest(unittest.TestCase):
    def test_vector(self):
        self.assertEqual(sign(ACCESS_KEY_ID, ACCESS_KEY_SECRET, NONCE), EXPECTED)
""")

add("src/java/OssConfig.java", """package com.acme.storage;

import com.aliyun.oss.OSS;
import com.aliyun.oss.OSSClientBuilder;

public class OssConfig {
    private static final String ENDPOINT = "https://oss-cn-hangzhou.aliyuncs.com";
    private static final String ACCESS_KEY_ID = "{ID:a}"; <<FIND
    private static final String ACCESS_KEY_SECRET = "{SEC:a}";
    private static final String BUILD = "{HEX40}";

    public OSS client() {
        return new OSSClientBuilder().build(ENDPOINT, ACCESS_KEY_ID, ACCESS_KEY_SECRET);
    }
}
""")

add("src/java/EcsFactory.java", """package com.acme.compute;

import com.aliyuncs.DefaultAcsClient;
import com.aliyuncs.profile.DefaultProfile;

public final class EcsFactory {
    public static DefaultAcsClient create() {
        DefaultProfile profile = DefaultProfile.getProfile("cn-hangzhou", "{ID:a}", "{SEC:a}"); <<FIND
        return new DefaultAcsClient(profile);
    }

    static String traceId() {
        return "{UUID}";
    }
}
""")

add("src/java/StsSample.java", """package com.acme.sts;

import com.aliyun.teaopenapi.models.Config;

public class StsSample {
    public static Config config() {
        Config config = new Config();
        config.setAccessKeyId("{ID:a}"); <<FIND
        config.setAccessKeySecret("{SEC:a}");
        config.setEndpoint("sts.cn-hangzhou.aliyuncs.com");
        return config;
    }
}
""")

add("src/go/main.go", """package main

import (
	"fmt"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
)

const buildCommit = "{HEX40}"

func main() {
	client, err := sdk.NewClientWithAccessKey("cn-hangzhou", "{ID:a}", "{SEC:a}") <<FIND
	if err != nil {
		panic(err)
	}
	fmt.Println(client, buildCommit)
}
""")

add("src/go/creds.go", """package creds

import "github.com/aliyun/credentials-go/credentials"

func Load() (credentials.Credential, error) {
	config := new(credentials.Config).
		SetType("access_key").
		SetAccessKeyId("{ID:a}"). <<FIND
		SetAccessKeySecret("{SEC:a}")
	return credentials.NewCredential(config)
}
""")

add("src/go/creds_env.go", """package creds

import "os"

// Keys come from the environment; the literals below are hashes of fixtures.
var (
	accessKeyID     = os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
	accessKeySecret = os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	fixtureSHA1     = "{HEX40}"
	fixtureSHA256   = "{HEX64}"
)
""")

add("src/node/oss.js", """const OSS = require('ali-oss');

const client = new OSS({
  region: 'oss-cn-hangzhou',
  accessKeyId: '{ID:a}', <<FIND
  accessKeySecret: '{SEC:a}',
  bucket: 'acme-web',
});

module.exports = client;
""")

add("src/node/sts.ts", """import Sts from '@alicloud/sts20150401';

export function temporaryClient() {
  // credentials pasted from the console while debugging
  const credentials = { accessKeyId: '{STS:a}', accessKeySecret: '{STSSEC:a}', securityToken: 'CAIS{B64:200}' }; <<FIND
  return new Sts({ ...credentials, endpoint: 'sts.aliyuncs.com' });
}
""")

add("src/php/config.php", """<?php
return [
    'aliyun' => [
        'accessKeyId' => '{ID:a}', <<FIND
        'accessKeySecret' => '{SEC:a}',
        'regionId' => 'cn-hangzhou',
    ],
    'app_key' => 'base64:{B64:40}',
];
""")

add("src/rust/client.rs", """use cloudward_protocol::Credentials;

// Local development key of the Cloudward dev server.
pub fn dev_credentials() -> Credentials {
    Credentials::new("{ID:a}", "{SEC:a}") <<FIND
}

pub const SCHEMA_HASH: &str = "{HEX64}";
""")

add("src/ruby/storage.rb", """require 'aliyun/oss'

client = Aliyun::OSS::Client.new(
  :endpoint => 'https://oss-cn-hangzhou.aliyuncs.com',
  :access_key_id => '{ID:a}', <<FIND
  :access_key_secret => '{SEC:a}')
bucket = client.get_bucket('acme-ruby')
""")

add("src/csharp/Program.cs", """using AlibabaCloud.SDK.Sts20150401;

class Program
{
    static void Main()
    {
        var config = new AlibabaCloud.OpenApiClient.Models.Config
        {
            AccessKeyId = "{ID:a}", <<FIND
            AccessKeySecret = "{SEC:a}",
            Endpoint = "sts.aliyuncs.com",
        };
        var requestId = "{UUID}";
    }
}
""")

# ---------------------------------------------------------------- infrastructure

add("infra/main.tf", """terraform {
  required_providers {
    alicloud = { source = "aliyun/alicloud", version = "1.230.0" }
  }
}

provider "alicloud" {
  access_key = "{ID:a}" <<FIND
  secret_key = "{SEC:a}"
  region     = "cn-hangzhou"
}

resource "alicloud_oss_bucket" "logs" {
  bucket = "acme-logs"
}
""")

add("infra/variables.tf", """variable "access_key" {
  description = "AccessKeyId, e.g. LTAI... (set TF_VAR_access_key)"
  type        = string
  sensitive   = true
}

variable "secret_key" {
  type      = string
  sensitive = true
}
""")

add("infra/terraform.tfstate", """{
  "version": 4,
  "terraform_version": "1.9.5",
  "serial": 12,
  "lineage": "{UUID}",
  "resources": [
    {
      "mode": "managed",
      "type": "alicloud_ram_access_key",
      "name": "ci",
      "instances": [
        {
          "attributes": {
            "id": "{ID:a}", <<FIND
            "secret": "{SEC:a}",
            "status": "Active",
            "user_name": "ci"
          }
        }
      ]
    },
    {
      "mode": "managed",
      "type": "alicloud_oss_bucket_object",
      "name": "index",
      "instances": [ { "attributes": { "etag": "{HEX32}", "content_md5": "{B64:22}" } } ]
    }
  ]
}
""")

add("infra/k8s-secret.yaml", """apiVersion: v1
kind: Secret
metadata:
  name: aliyun-credentials
type: Opaque
stringData:
  ALIBABA_CLOUD_ACCESS_KEY_ID: {ID:a} <<FIND
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: {SEC:a}
---
apiVersion: v1
kind: Secret
metadata:
  name: encoded-only
type: Opaque
data:
  id: {B64:30}
  secret: {B64:38}
""")

add("infra/docker-compose.yml", """services:
  api:
    image: acme/api:1.8
    environment:
      - ALIBABA_CLOUD_ACCESS_KEY_ID={ID:a} <<FIND
      - ALIBABA_CLOUD_ACCESS_KEY_SECRET={SEC:a}
      - ALIBABA_CLOUD_REGION_ID=cn-hangzhou
  worker:
    image: acme/worker:1.8
    environment:
      ALIBABA_CLOUD_ACCESS_KEY_ID: ${ALIBABA_CLOUD_ACCESS_KEY_ID}
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: ${ALIBABA_CLOUD_ACCESS_KEY_SECRET}
""")

# ---------------------------------------------------------------- CI

add("ci/github-workflow.yml", """name: deploy
on: [push]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{HEX40}
      - uses: aliyun/configure-aliyun-credentials-action@v1
        with:
          access-key-id: ${{ secrets.ALIYUN_ACCESS_KEY_ID }}
          access-key-secret: ${{ secrets.ALIYUN_ACCESS_KEY_SECRET }}
      - run: ./deploy.sh
""")

add("ci/gitlab-ci.yml", """stages: [build, deploy]
variables:
  ALIYUN_REGION: cn-hangzhou
  ALIYUN_AK: {ID:a} <<FIND
  ALIYUN_SK: {SEC:a}
deploy:
  stage: deploy
  script:
    - aliyun configure set --access-key-id $ALIYUN_AK --access-key-secret $ALIYUN_SK
    - aliyun oss sync dist oss://acme-site
""")

add("ci/Jenkinsfile", """pipeline {
  agent any
  environment {
    ALIBABA_CLOUD_ACCESS_KEY_ID = credentials('aliyun-ak-id')
    ALIBABA_CLOUD_ACCESS_KEY_SECRET = credentials('aliyun-ak-secret')
  }
  stages {
    stage('Deploy') {
      steps { sh 'aliyun fc deploy --checksum {HEX64}' }
    }
  }
}
""")

add("ci/drone.yml", """kind: pipeline
name: default
steps:
  - name: publish
    image: plugins/s3
    settings:
      endpoint: https://oss-cn-beijing.aliyuncs.com
      access_key: {ID:a} <<FIND
      secret_key: {SEC:a}
      bucket: acme-artifacts
""")

# ---------------------------------------------------------------- documentation

add("docs/README.md", """# Acme storage service

Configure credentials through the environment, never in code:

```sh
export ALIBABA_CLOUD_ACCESS_KEY_ID=<your AccessKey ID>
export ALIBABA_CLOUD_ACCESS_KEY_SECRET=<your AccessKey secret>
```

The console shows ids masked, like `LTAI4GENiH2u8MVj7Khh****`; a temporary key looks like
`STS.L4aBSCSJVMuKg5U1****` with the secret `wyLTSmsyPGP1ohvvw8xYgB29dlGI8KMiH2pK****`.

## Example

```ini
[default]
access_key_id = {ID:ex1}
access_key_secret = {SEC:ex1}
```

For example, with the Python SDK:

```python
client = AcsClient("{ID:ex2}", "{SEC:ex2}", "cn-hangzhou")
```

Sample response of CreateAccessKey:

```json
{"AccessKey": {"AccessKeyId": "{ID:ex3}", "AccessKeySecret": "{SEC:ex3}", "Status": "Active"}}
```
""")

add("docs/troubleshooting.md", """# Troubleshooting: SignatureDoesNotMatch

Last week the nightly job failed with SignatureDoesNotMatch. The job used this key pair
(copied from the job's environment):

    ALIBABA_CLOUD_ACCESS_KEY_ID={ID:a} <<FIND
    ALIBABA_CLOUD_ACCESS_KEY_SECRET={SEC:a}

The clock of the runner was 20 minutes late; after `chronyc makestep` it worked again.
Request id of the failure: {UUID}.
""")

add("docs/api-sts.md", """# AssumeRole

Returns temporary credentials.

Sample response:

```json
{
  "RequestId": "6894B13B-6D71-4EF5-88FA-F32781734A7F",
  "Credentials": {
    "AccessKeyId": "{STS:ex}",
    "AccessKeySecret": "{STSSEC:ex}",
    "SecurityToken": "********",
    "Expiration": "2015-04-09T11:52:19Z"
  }
}
```

| field | example |
| --- | --- |
| AccessKeyId | `STS.NUgYrLnoC37mZZCNnAbez****` |
| AccessKeySecret | `{STSSEC:ex}`... |
""")

add("docs/onboarding.md", """# Onboarding

1. Ask the platform team for a RAM user.
2. They send you an AccessKey over the password manager. Never paste it into chat.
3. Configure the CLI:

   aliyun configure --profile work

   It prompts for `Access Key Id [LTAI****************]` and `Access Key Secret [****]`.

Your AccessKey ID looks like `LTAI` followed by 20 letters and digits, and the secret is
30 letters and digits. If you leak one, rotate it at once.

Old keys from 2016 are shorter: LTAI + 12 characters.
""")

add("docs/incident-2026-03.md", """# Incident 2026-03-14: key in a public gist

At 09:12 a developer published a gist with the following content (the key is disabled
since 09:40, kept here for the post-mortem):

    # ~/.alibabacloud/credentials
    [default]
    type = access_key
    access_key_id = {ID:a}  <<FIND
    access_key_secret = {SEC:a}

Security Center flagged it at 09:31. Timeline in the appendix; gist id {HEX32}.
""")

add("docs/changelog.md", """# Changelog

## 2.4.0
- Credentials are read from `~/.alibabacloud/credentials` (commit {HEX40}).
- The `access_key_secret` option is deprecated; use the environment.
- Fixed #812: the id `{ID:lone1}` was printed in debug logs (the id is not secret).

## 2.3.1
- Bumped dependency checksums ({HEX64}).
""")

# ---------------------------------------------------------------- logs and data

add("logs/app.log", """2026-03-02T10:14:01.223Z INFO  request id={UUID} action=DescribeInstances AccessKeyId={ID:lone1} status=200
2026-03-02T10:14:01.512Z INFO  request id={UUID} action=ListBuckets AccessKeyId={ID:lone1} status=200
2026-03-02T10:14:02.007Z WARN  signature mismatch AccessKeyId={ID:lone2} Signature={B64:26} StringToSign=GET&%2F&...
2026-03-02T10:14:02.118Z DEBUG loaded credentials {"AccessKeyId":"{ID:a}","AccessKeySecret":"{SEC:a}","Source":"env"} <<FIND
2026-03-02T10:14:03.900Z INFO  upload etag={HEX32} sha1={HEX40} size=18822
2026-03-02T10:14:04.001Z INFO  session {STS:lone3} expires 2026-03-02T11:14:04Z
""")

add("logs/access.log", """10.0.3.17 - - [02/Mar/2026:10:14:01 +0800] "GET /?Action=GetCallerIdentity&AccessKeyId={ID:lone1}&Signature={B64:26}&SignatureNonce={UUID} HTTP/1.1" 200 312
10.0.3.17 - - [02/Mar/2026:10:14:02 +0800] "GET /static/app.{HEX32}.js HTTP/1.1" 200 88121
10.0.3.18 - - [02/Mar/2026:10:14:02 +0800] "GET /download/{B64:30}/LTAI{B62:20}x HTTP/1.1" 404 0
""")

add("logs/audit-events.jsonl", """{"eventId":"{UUID}","eventName":"CreateUser","userIdentity":{"type":"ram-user","accessKeyId":"{ID:lone1}"},"requestId":"{UUID}"}
{"eventId":"{UUID}","eventName":"AssumeRole","userIdentity":{"type":"assumed-role","accessKeyId":"{STS:lone2}"},"additionalEventData":{"hash":"{HEX64}"}}
{"eventId":"{UUID}","eventName":"CreateAccessKey","responseElements":{"AccessKey":{"AccessKeyId":"{ID:a}","AccessKeySecret":"{SEC:a}"}}} <<FIND
""")

add("data/AccessKey.csv", """AccessKey ID,AccessKey Secret
{ID:a},{SEC:a} <<FIND
""")

add("data/accesskeys-export.csv", """UserName,AccessKeyId,AccessKeySecret,Status,CreateDate
ci,{ID:a},{SEC:a},Active,2025-11-02T08:00:00Z <<FIND
backup,{ID:b},{SEC:b},Inactive,2024-06-12T03:11:00Z <<FIND
auditor,{ID:c},,Active,2026-01-20T09:30:00Z
""")

add("data/checksums.txt", """{HEX64}  cloudward-0.1.0-x86_64-unknown-linux-gnu.tar.gz
{HEX64}  cloudward-0.1.0-aarch64-unknown-linux-gnu.tar.gz
{HEX40}  vendor.tar
{HEX32}  schema.sql
""")

add("data/package-lock.json", """{
  "name": "acme-web",
  "lockfileVersion": 3,
  "packages": {
    "node_modules/ali-oss": {
      "version": "6.21.0",
      "resolved": "https://registry.npmjs.org/ali-oss/-/ali-oss-6.21.0.tgz",
      "integrity": "sha512-{B64:40}LTAI{B62:20}{B64:20}"
    },
    "node_modules/left-pad": {
      "version": "1.3.0",
      "integrity": "sha512-{B64:86}"
    }
  }
}
""")

add("data/ids.txt", """# instance ids and request ids from last night's run
i-bp1{HEX32}
{UUID}
{UUID}
{HEX40}
{B62:30}
{B62:44}
LTAI{B62:20}{B62:10}
{B62:10}LTAI{B62:20}
""")

add("data/users.json", """[
  {"user": "ci", "accessKeyId": "{ID:lone1}", "lastUsed": "2026-03-01"},
  {"user": "backup", "accessKeyId": "{ID:lone2}", "lastUsed": "2026-02-11"},
  {"user": "ops", "accessKeyId": "{ID:lone3}", "passwordHash": "{HEX64}"}
]
""")

add("data/sts-response.json", """{
  "RequestId": "{UUID}",
  "AssumedRoleUser": {
    "Arn": "acs:ram::1234567890123456:role/deployer/ci",
    "AssumedRoleId": "3xxxxxxxxxxxxxxx:ci"
  },
  "Credentials": {
    "AccessKeyId": "{STS:a}", <<FIND
    "AccessKeySecret": "{STSSEC:a}",
    "SecurityToken": "CAIS{B64:500}",
    "Expiration": "2026-03-02T11:14:04Z"
  }
}
""")

add("data/base64-blobs.txt", """-----BEGIN CERTIFICATE-----
{B64:62}
{B64:62}
{B64:62}
-----END CERTIFICATE-----
payload: {B64:40}+LTAI{B62:20}/{B64:20}
jwt: eyJhbGciOiJIUzI1NiJ9.{B64:50}.{B64:43}
""")

# ---------------------------------------------------------------- harder look-alikes

add("lookalike/split-far.yaml", """# two unrelated settings far apart
service:
  owner_key_id: {ID:lone1}
  replicas: 3
  image: acme/api:1.8
  ports:
    - 80
    - 443
  resources:
    limits:
      cpu: 500m
      memory: 512Mi
  probes:
    liveness: /healthz
    readiness: /readyz
  labels:
    team: storage
    tier: backend
notifications:
  webhook_secret: {SEC:far}
""")

add("lookalike/split-files-part1.env", """ALIBABA_CLOUD_ACCESS_KEY_ID={ID:lone1}
""")

add("lookalike/split-files-part2.env", """ALIBABA_CLOUD_ACCESS_KEY_SECRET={SEC:orphan}
""")

add("lookalike/masked.txt", """AccessKeyId:     LTAI5t{B62:14}****
AccessKeySecret: {B62:26}****
AccessKeyId:     ****{B62:20}
AccessKeySecret: ******************************
id={ID:lone1}... secret={B62:26}...
access_key_id = LTAI{B62:20}\u2026
access_key_secret = {B62:30}\u2026
""")

add("lookalike/hashes-near-ids.conf", """# key ids with their fingerprints, not secrets
key_id = {ID:lone1}
key_sha1 = {HEX40}
key_md5 = {HEX32}
key_uuid = {UUID}
other_key_id = {ID:lone2}
other_digest = {HEX64}
""")

add("lookalike/wrong-lengths.txt", """access_key_id = LTAI{B62:19}
access_key_secret = {B62:29}
access_key_id = LTAI{B62:21}
access_key_secret = {B62:31}
access_key_id = STS.{B62:10}
access_key_secret = {B62:43}
""")

add("lookalike/templates.txt", """access_key_id = ${ALIBABA_CLOUD_ACCESS_KEY_ID}
access_key_secret = ${ALIBABA_CLOUD_ACCESS_KEY_SECRET}
access_key_id = {{ aliyun_access_key_id }}
access_key_secret = {{ aliyun_access_key_secret }}
access_key_id = <ACCESS_KEY_ID>
access_key_secret = <ACCESS_KEY_SECRET>
access_key_id = %(access_key_id)s
access_key_secret = %(access_key_secret)s
AccessKeyId = process.env.ALIBABA_CLOUD_ACCESS_KEY_ID
AccessKeySecret = process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET
""")

add("lookalike/identifiers.java", """public interface AccessKeyStore {
    String getAccessKeyIdForCurrentUserAndRegion();
    String resolveAccessKeySecretFromVaultPath();
    // LTAI is the prefix Alibaba uses for AccessKey ids.
    String LTAI_PREFIX = "LTAI";
    String accessKeySecretRotationPolicyName = "RotateEveryNinetyDaysForProdUsers";
}
""")

add("lookalike/id-with-token.log", """2026-03-02 session={STS:lone1} token=CAIS{B64:120}
2026-03-02 user={ID:lone2} signature={B62:30}
2026-03-02 user={ID:lone3} nonce={B62:30}
2026-03-02 user={ID:lone4} commit_sha={HEX40}
""")

add("lookalike/commented-example.py", """# Example credentials for the tutorial (not real):
# access_key_id = "{ID:ex1}"
# access_key_secret = "{SEC:ex1}"
import os

ACCESS_KEY_ID = os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"]
ACCESS_KEY_SECRET = os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
""")

add("lookalike/doc-samples.md", """Keys in the docs are samples, e.g. `LTAImMJ3WeEGdicOCbV46WvW` with a secret such as
`{SEC:sample}`.

A fake pair for the unit tests: LTAI{B62:20} / {B62:30}
""")

add("lookalike/urls.txt", """https://acme.oss-cn-hangzhou.aliyuncs.com/LTAI{B62:20}/{B62:30}/avatar.png
https://cdn.acme.cn/assets/LTAI{B62:20}-{B62:30}.js
https://api.acme.cn/v1/keys/{ID:lone1}
""")

add("lookalike/wordlike.ini", """[svc]
access_key_id = LTAIProdOrderServiceAcct
access_key_secret = ThisIsTheProdKeyForOurBillings
access_key_id = LTAIMainAccountForDeploy
access_key_secret = RotateQuarterlyAndStoreInVault
""")

add("lookalike/one-case.env", """ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI{UP:20}
ALIBABA_CLOUD_ACCESS_KEY_SECRET={UP:30}
ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI{LOW:20}
ALIBABA_CLOUD_ACCESS_KEY_SECRET={LOW:30}
""")

add("lookalike/sts-mismatch.json", """{
  "AccessKeyId": "{STS:lone1}",
  "AccessKeySecret": "{SEC:wronglen}",
  "note": "an STS id needs a 44-character secret"
}
""")

# ---------------------------------------------------------------- mixed content

add("mixed/notes-zh.md", """# 部署说明

生产环境的 AccessKey（请勿外传）：

- AccessKeyId：{ID:a} <<FIND
- AccessKeySecret：{SEC:a}

测试环境使用 RAM 角色，无需配置密钥。校验值 {HEX64}。
""")

add("mixed/commented-real.py", """import oss2

# old key, replaced by the RAM role -- still works though
# auth = oss2.Auth("{ID:a}", "{SEC:a}") <<FIND
auth = oss2.ProviderAuth(oss2.credentials.EcsRamRoleCredentialsProvider())
""")

add("mixed/two-on-one-line.json", """[{"AccessKeyId":"{ID:a}","AccessKeySecret":"{SEC:a}"},{"AccessKeyId":"{ID:b}","AccessKeySecret":"{SEC:b}"}] <<FIND
""")

add("mixed/crlf.ini", "[default]\r\naccess_key_id = {ID:a} <<FIND\r\naccess_key_secret = {SEC:a}\r\n")

add("mixed/escaped.json", """{"env": "ALIBABA_CLOUD_ACCESS_KEY_ID={ID:a}\\nALIBABA_CLOUD_ACCESS_KEY_SECRET={SEC:a}\\n"} <<FIND
""")

add("mixed/oss-url.txt", """oss://{ID:a}:{SEC:a}@acme-backup/nightly/ <<FIND
""")

add("mixed/notebook.ipynb", """{
 "cells": [
  {
   "cell_type": "code",
   "source": [
    "import oss2\\n",
    "auth = oss2.Auth('{ID:a}', '{SEC:a}')\\n", <<FIND
    "bucket = oss2.Bucket(auth, 'oss-cn-hangzhou.aliyuncs.com', 'research')\\n"
   ]
  }
 ],
 "metadata": {"kernelspec": {"name": "python3"}},
 "nbformat": 4
}
""")


# ---------------------------------------------------------------- second batch (written
# after the scanner, to check forms it was not tuned on)

add("batch2/black_formatted.py", """from aliyunsdkcore.client import AcsClient

client = AcsClient(
    "{ID:a}", <<FIND
    "{SEC:a}",
    "cn-shanghai",
)
""")

add("batch2/SplitCall.java", """class SplitCall {
    static DefaultAcsClient client() {
        return new DefaultAcsClient(DefaultProfile.getProfile("cn-hangzhou",
                "{ID:a}", <<FIND
                "{SEC:a}"));
    }
}
""")

add("batch2/aliyun-configure.txt", """$ aliyun configure
Configuring profile 'default' in 'AK' authenticate mode...
Access Key Id []: {ID:a} <<FIND
Access Key Secret []: {SEC:a}
Default Region Id []: cn-hangzhou
Default Output Format [json]: json (Only support json)
Default Language [zh|en] en:
Saving profile[default] ...Done.
""")

add("batch2/profile.ps1", """$env:ALIBABA_CLOUD_ACCESS_KEY_ID = "{ID:a}" <<FIND
$env:ALIBABA_CLOUD_ACCESS_KEY_SECRET = "{SEC:a}"
Write-Host "configured"
""")

add("batch2/run.sh", """docker run --rm -e ALIBABA_CLOUD_ACCESS_KEY_ID={ID:a} -e ALIBABA_CLOUD_ACCESS_KEY_SECRET={SEC:a} acme/tool:2 sync <<FIND
""")

add("batch2/Storage.kt", """object Storage {
    private const val accessKeySecret = "{SEC:a}"
    private const val accessKeyId = "{ID:a}" <<FIND
    val client = OSSClientBuilder().build("https://oss-cn-hangzhou.aliyuncs.com", accessKeyId, accessKeySecret)
}
""")

add("batch2/keys.html", """<table>
<tr><th>User</th><th>AccessKey ID</th><th>AccessKey Secret</th></tr>
<tr><td>ci</td><td>{ID:a}</td><td>{SEC:a}</td></tr> <<FIND
</table>
""")

add("batch2/handover.md", """# Handover

| system | AccessKey ID | AccessKey Secret |
| --- | --- | --- |
| billing export | {ID:a} | {SEC:a} | <<FIND
| log shipping | `{ID:b}` | `{SEC:b}` | <<FIND
| legacy | {ID:c} | (rotated, ask ops) |
""")

add("batch2/keys.tsv", """name\tid\tsecret
uploader\t{ID:a}\t{SEC:a} <<FIND
""")

add("batch2/spaced.json", """{
  "AccessKeyId": "{ID:a}", <<FIND
  "Region": "cn-hangzhou",
  "Endpoint": "ecs.aliyuncs.com",
  "Timeout": 30,
  "Retries": 3,
  "AccessKeySecret": "{SEC:a}"
}
""")

add("batch2/sts-credentials.yaml", """credentials:
  access_key_id: {STS:a} <<FIND
  access_key_secret: {STSSEC:a}
  security_token: CAIS{B64:240}
  expiration: 2026-03-02T11:14:04Z
""")

add("batch2/test_fixtures.py", """# fake credentials for the unit tests, they were never issued
ACCESS_KEY_ID = "{ID:fx}"
ACCESS_KEY_SECRET = "{SEC:fx}"
""")

add("batch2/patterns.ini", """[human-made]
access_key_id = LTAI5tAbCdEfGhIjKlMnOpQr
access_key_secret = Abc123Def456Ghi789Jkl012Mno345
[keyboard]
access_key_id = LTAIQwertyUiopAsdfGhJk12
access_key_secret = QwertyUiop1234AsdfGhjkl5678Zxc
[repeated]
access_key_id = LTAIk9Xq2Wk9Xq2Wk9Xq2Wk9
access_key_secret = Qz8kW3xPmR7vQz8kW3xPmR7vTb2nYh
""")

add("batch2/supply-chain.txt", """# go.sum
github.com/aliyun/alibaba-cloud-sdk-go v1.63.0 h1:{B64:43}=
# requirements.txt
oss2==2.18.4 --hash=sha256:{HEX64}
# ssh
ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{B64:42} deploy@ci
# base64url without padding next to an id (a session cookie, not a secret)
Set-Cookie: sid={B62:30}; Path=/; HttpOnly
user_key_id={ID:lone1}
""")

add("batch2/vault-refs.yaml", """aliyun:
  access_key_id: {ID:lone1}
  access_key_secret: vault:secret/data/aliyun#access_key_secret
  other_key_id: {ID:lone2}
  other_secret: ${vault.aliyun.secret}
""")

add("batch2/rotation.csv", """AccessKeyId,SecretPreview,Status
{ID:lone1},{B62:4}****,Inactive
{ID:lone2},{B62:4}...,Active
""")

add("batch2/minified.js", """!function(){var e="{B64:60}",LTAI{B62:20}=1;window.cfg={k:"{ID:lone1}",h:"{HEX64}",v:"{B62:30}x"}}();
""")

# ---------------------------------------------------------------- rendering

def render(path, template):
    names = {}

    def value(kind, name):
        key = (kind, name)
        if key not in names:
            names[key] = {
                "ID": lambda: "LTAI" + ("5t" + b62(18) if rng.random() < 0.5 else b62(20)),
                "ID16": lambda: "LTAI" + b62(12),
                "SEC": lambda: b62(30),
                "STS": lambda: "STS." + b62(25),
                "STSSEC": lambda: b62(44),
            }[kind]()
        return names[key]

    def sub(m):
        kind, arg = m.group(1), m.group(2)
        if kind in ("ID", "ID16", "SEC", "STS", "STSSEC"):
            return value(kind, arg)
        if kind == "HEX32":
            return hexs(32)
        if kind == "HEX40":
            return hexs(40)
        if kind == "HEX64":
            return hexs(64)
        if kind == "UUID":
            return uuid()
        if kind == "B64":
            return b64(int(arg))
        if kind == "B62":
            return b62(int(arg))
        if kind == "UP":
            return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(int(arg)))
        if kind == "LOW":
            return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(int(arg)))
        raise ValueError(m.group(0))

    pattern = re.compile(r"\{(ID16|ID|SEC|STSSEC|STS|HEX32|HEX40|HEX64|UUID|B64|B62|UP|LOW)(?::(\w+))?\}")
    expected = []
    out_lines = []
    for number, line in enumerate(template.split("\n"), start=1):
        find = "<<FIND" in line
        line = re.sub(r"\s*<<FIND", "", line)
        ids_in_line = []

        def sub_track(m):
            v = sub(m)
            if m.group(1) in ("ID", "ID16", "STS"):
                ids_in_line.append((m.start(), v))
            return v

        line = pattern.sub(sub_track, line)
        if find:
            for _, v in ids_in_line:
                expected.append({"file": path, "line": number, "id": v})
        out_lines.append(line)
    return "\n".join(out_lines), expected


def main():
    manifest = []
    for path, template in FILES.items():
        text, expected = render(path, template)
        full = os.path.join(HERE, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", newline="") as f:
            f.write(text)
        manifest.extend(expected)
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump({"files": sorted(FILES), "expected": manifest}, f, indent=1)
        f.write("\n")
    print(f"{len(FILES)} files, {len(manifest)} expected findings")


if __name__ == "__main__":
    main()
