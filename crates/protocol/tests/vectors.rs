//! The five VERIFIED signature vectors of the Alibaba API reference (§4), run through the
//! public parser/verifier and the public signers. Vector 5 lacks the headers a full request
//! needs, so it is checked at the canonicalization level in `src/canonical.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use cloudward_protocol::{
    Credentials, IncomingRequest, Limits, ProtocolError, ResponseFormat, SignatureScheme,
    V3Request, parse_request, sign_v2_params, sign_v3,
};
use time::macros::datetime;

fn get(query: &str) -> Result<cloudward_protocol::SignedRequest, ProtocolError> {
    let headers: Vec<(String, String)> = vec![];
    parse_request(
        &IncomingRequest {
            method: "GET",
            path: "/",
            query,
            headers: &headers,
            body: b"",
        },
        &Limits::default(),
    )
}

const V1_QUERY: &str = "UserName=test&SignatureVersion=1.0&Format=JSON&Timestamp=2015-08-18T03%3A15%3A45Z&AccessKeyId=testid&SignatureMethod=HMAC-SHA1&Version=2015-05-01&Signature=kRA2cnpJVacIhDMzXnoNZG9tDCI%3D&Action=CreateUser&SignatureNonce=6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2";
const V1_STS: &str = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DCreateUser%26Format%3DJSON%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2%26SignatureVersion%3D1.0%26Timestamp%3D2015-08-18T03%253A15%253A45Z%26UserName%3Dtest%26Version%3D2015-05-01";

#[test]
fn vector1_ram_create_user_v2() {
    let req = get(V1_QUERY).unwrap();
    assert_eq!(req.scheme, SignatureScheme::V2);
    assert_eq!(req.string_to_sign(), V1_STS);
    assert_eq!(req.action, "CreateUser");
    assert_eq!(req.version, "2015-05-01");
    assert_eq!(req.access_key_id, "testid");
    assert_eq!(req.nonce, "6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2");
    assert_eq!(req.timestamp, datetime!(2015-08-18 03:15:45 UTC));
    assert_eq!(req.format, ResponseFormat::Json);
    assert_eq!(req.security_token, None);
    assert_eq!(
        req.params,
        BTreeMap::from([("UserName".to_string(), "test".to_string())])
    );
    req.verify(b"testsecret").unwrap();
    let err = req.verify(b"wrongsecret").unwrap_err();
    assert_eq!(err.code(), "SignatureDoesNotMatch");
    assert_eq!(
        err.message(),
        format!(
            "Specified signature is not matched with our calculation. server string to sign is:{V1_STS}"
        )
    );
}

#[test]
fn vector1_reproduced_by_signer() {
    let params = BTreeMap::from([
        ("Action".to_string(), "CreateUser".to_string()),
        ("Version".to_string(), "2015-05-01".to_string()),
        ("UserName".to_string(), "test".to_string()),
        ("Format".to_string(), "JSON".to_string()),
    ]);
    let signed = sign_v2_params(
        "GET",
        &params,
        &Credentials::new("testid", "testsecret"),
        "6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2",
        datetime!(2015-08-18 03:15:45 UTC),
    );
    assert_eq!(signed["Signature"], "kRA2cnpJVacIhDMzXnoNZG9tDCI=");
}

const V2_STS: &str = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DCreateUser%26DisplayName%3Dtest%26Format%3DJSON%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3f6b4e80-56f7-11eb-a256-a9f756ea7e85%26SignatureVersion%3D1.0%26Timestamp%3D2021-01-15T06%253A02%253A28Z%26UserPrincipalName%3Dtest%2540example.onaliyun.com%26Version%3D2019-08-15";

#[test]
fn vector2_ims_create_user_v2() {
    let query = "Action=CreateUser&UserPrincipalName=test%40example.onaliyun.com&DisplayName=test&SignatureVersion=1.0&Format=JSON&Timestamp=2021-01-15T06%3A02%3A28Z&AccessKeyId=testid&SignatureMethod=HMAC-SHA1&Version=2019-08-15&SignatureNonce=3f6b4e80-56f7-11eb-a256-a9f756ea7e85&Signature=02heLegtw4%2BBFamznl1Ltj%2BvJ4A%3D";
    let req = get(query).unwrap();
    assert_eq!(req.string_to_sign(), V2_STS);
    req.verify(b"testsecret").unwrap();
    assert_eq!(req.params["UserPrincipalName"], "test@example.onaliyun.com");
    assert_eq!(req.params["DisplayName"], "test");
    assert_eq!(req.params.len(), 2);

    let params = BTreeMap::from([
        ("Action".to_string(), "CreateUser".to_string()),
        ("Version".to_string(), "2019-08-15".to_string()),
        (
            "UserPrincipalName".to_string(),
            "test@example.onaliyun.com".to_string(),
        ),
        ("DisplayName".to_string(), "test".to_string()),
    ]);
    let signed = sign_v2_params(
        "GET",
        &params,
        &Credentials::new("testid", "testsecret"),
        "3f6b4e80-56f7-11eb-a256-a9f756ea7e85",
        datetime!(2021-01-15 06:02:28 UTC),
    );
    assert_eq!(signed["Signature"], "02heLegtw4+BFamznl1Ltj+vJ4A=");
}

fn ecs_headers(date: &str, nonce: &str, signature: &str) -> Vec<(String, String)> {
    vec![
        ("Host".into(), "ecs.cn-shanghai.aliyuncs.com".into()),
        ("x-acs-action".into(), "RunInstances".into()),
        (
            "x-acs-content-sha256".into(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
        ),
        ("x-acs-date".into(), date.into()),
        ("x-acs-signature-nonce".into(), nonce.into()),
        ("x-acs-version".into(), "2014-05-26".into()),
        (
            "Authorization".into(),
            format!(
                "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature={signature}"
            ),
        ),
    ]
}

const ECS_QUERY: &str =
    "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai";

fn check_ecs_vector(date: &str, nonce: &str, hash: &str, signature: &str) {
    let headers = ecs_headers(date, nonce, signature);
    let req = parse_request(
        &IncomingRequest {
            method: "POST",
            path: "/",
            query: ECS_QUERY,
            headers: &headers,
            body: b"",
        },
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(req.scheme, SignatureScheme::V3);
    let expected_cr = format!(
        "POST\n/\n{ECS_QUERY}\nhost:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\nx-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-acs-date:{date}\nx-acs-signature-nonce:{nonce}\nx-acs-version:2014-05-26\n\nhost;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(req.canonical_request(), Some(expected_cr.as_str()));
    assert_eq!(req.string_to_sign(), format!("ACS3-HMAC-SHA256\n{hash}"));
    assert_eq!(req.action, "RunInstances");
    assert_eq!(req.version, "2014-05-26");
    assert_eq!(req.access_key_id, "YourAccessKeyId");
    assert_eq!(req.nonce, nonce);
    assert_eq!(req.params["RegionId"], "cn-shanghai");
    req.verify(b"YourAccessKeySecret").unwrap();
    assert_eq!(
        req.verify(b"YourAccessKeySecreT").unwrap_err().code(),
        "SignatureDoesNotMatch"
    );

    // Our signer, given the same inputs, emits the same signature and canonical request.
    let query = BTreeMap::from([
        (
            "ImageId".to_string(),
            "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd".to_string(),
        ),
        ("RegionId".to_string(), "cn-shanghai".to_string()),
    ]);
    let date_t = cloudward_protocol::parse_timestamp(date).unwrap();
    let signed = sign_v3(
        &V3Request {
            method: "POST",
            host: "ecs.cn-shanghai.aliyuncs.com",
            action: "RunInstances",
            version: "2014-05-26",
            query: &query,
            body: b"",
            content_type: None,
            extra_headers: &[],
        },
        &Credentials::new("YourAccessKeyId", "YourAccessKeySecret"),
        nonce,
        date_t,
    );
    assert_eq!(signed.canonical_request, expected_cr);
    assert_eq!(signed.query, ECS_QUERY);
    let auth = &signed.headers.last().unwrap().1;
    assert!(auth.ends_with(&format!("Signature={signature}")), "{auth}");
}

#[test]
fn vector3_ecs_run_instances_v3() {
    check_ecs_vector(
        "2023-10-26T10:22:32Z",
        "3156853299f313e23d1673dc12e1703d",
        "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259",
        "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0",
    );
}

#[test]
fn vector4_ecs_run_instances_v3_other_date() {
    check_ecs_vector(
        "2023-10-26T09:01:01Z",
        "d410180a5abf7fe235dd9b74aca91fc0",
        "29622f5feb1e9fcaaa2e276a72889c975f7b16f00e02be1ca34965b18cd85015",
        "e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804",
    );
}
