//! Virtual MFA: RFC 4226/6238 vectors, the bind flow with two consecutive codes at a
//! controlled time, replay protection, unbind/delete, and the seed never leaving twice.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cloudward_iam::ram::totp;
use cloudward_store::{MfaDeviceRecord, Store};

use common::{Env, env_with_clock, ram};

/// RFC 6238 appendix B SHA1 seed.
const RFC_SECRET: &[u8] = b"12345678901234567890";

#[test]
fn rfc6238_sha1_vectors() {
    // (T, 8-digit TOTP) from RFC 6238 appendix B.
    let vectors: [(i64, u32); 6] = [
        (59, 94_287_082),
        (1_111_111_109, 7_081_804),
        (1_111_111_111, 14_050_471),
        (1_234_567_890, 89_005_924),
        (2_000_000_000, 69_279_037),
        (20_000_000_000, 65_353_130),
    ];
    for (t, expected) in vectors {
        let counter = u64::try_from(totp::step_at(t)).unwrap();
        assert_eq!(totp::hotp(RFC_SECRET, counter, 8), expected, "T={t}");
        // 6 digits is the same truncation modulo 10^6.
        assert_eq!(
            totp::hotp(RFC_SECRET, counter, 6),
            expected % 1_000_000,
            "T={t}"
        );
    }
    assert_eq!(totp::code(RFC_SECRET, totp::step_at(59)), "287082");
    assert_eq!(
        totp::code(RFC_SECRET, totp::step_at(1_111_111_109)),
        "081804",
        "zero-padded"
    );
    // RFC 4226 appendix D HOTP vectors (6 digits).
    let hotp = [
        755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871, 520_489,
    ];
    for (counter, expected) in hotp.iter().enumerate() {
        assert_eq!(
            totp::hotp(RFC_SECRET, counter as u64, 6),
            *expected,
            "counter {counter}"
        );
    }
}

/// Puts a device with the RFC seed into the account (as CreateVirtualMFADevice would).
async fn rfc_device(env: &Env, name: &str) -> String {
    let serial = format!("acs:ram::{}:mfa/{name}", env.management);
    let sealed = env
        .state
        .secrets
        .seal(RFC_SECRET, serial.as_bytes())
        .unwrap();
    let inserted = env
        .state
        .store
        .insert_mfa_device(
            &MfaDeviceRecord {
                account_id: env.management.clone(),
                device_name: name.to_owned(),
                serial_number: serial.clone(),
                seed_ciphertext: sealed,
                created_at_ms: 1_000,
                user_id: None,
                activated_at_ms: None,
                last_used_step: None,
            },
            1000,
        )
        .await
        .unwrap();
    assert!(inserted);
    serial
}

#[tokio::test]
async fn bind_with_rfc_vectors_at_a_fixed_time() {
    // T = 1111111111: step 37037037 (code 050471), previous step 37037036 (code 081804).
    let (env, clock) = env_with_clock(
        Store::open_sqlite_memory().await.unwrap(),
        1_111_111_111_000,
    )
    .await;
    ram(&env, "CreateUser", &[("UserName", "mia")])
        .await
        .unwrap();
    ram(&env, "CreateUser", &[("UserName", "ned")])
        .await
        .unwrap();
    let serial = rfc_device(&env, "mia-phone").await;

    let bind = |c1: &'static str, c2: &'static str, user: &'static str| {
        let serial = serial.clone();
        let env = &env;
        async move {
            ram(
                env,
                "BindMFADevice",
                &[
                    ("UserName", user),
                    ("SerialNumber", &serial),
                    ("AuthenticationCode1", c1),
                    ("AuthenticationCode2", c2),
                ],
            )
            .await
        }
    };
    // Wrong order, a single repeated code, and one wrong digit all fail.
    assert_eq!(
        bind("050471", "081804", "mia").await.unwrap_err().code,
        "CheckAuthenticationCodeFail"
    );
    assert_eq!(
        bind("050471", "050471", "mia").await.unwrap_err().code,
        "CheckAuthenticationCodeFail"
    );
    assert_eq!(
        bind("081804", "050472", "mia").await.unwrap_err().code,
        "CheckAuthenticationCodeFail"
    );
    // Far in the future the same codes are stale.
    clock.set_ms(1_111_111_111_000 + 10 * 60 * 1000);
    assert_eq!(
        bind("081804", "050471", "mia").await.unwrap_err().code,
        "CheckAuthenticationCodeFail"
    );
    clock.set_ms(1_111_111_111_000);
    bind("081804", "050471", "mia").await.unwrap();

    let info = ram(&env, "GetUserMFAInfo", &[("UserName", "mia")])
        .await
        .unwrap();
    assert_eq!(info["MFADevice"]["SerialNumber"], serial.as_str());
    assert_eq!(info["MFADevice"]["Type"], "VMFA");
    let list = ram(&env, "ListVirtualMFADevices", &[]).await.unwrap();
    let device = &list["VirtualMFADevices"]["VirtualMFADevice"][0];
    assert_eq!(device["User"]["UserName"], "mia");
    assert_eq!(device["ActivateDate"], "2005-03-18T01:58:31Z");
    assert!(device.get("Base32StringSeed").is_none());

    // Bound: another user cannot take it, the same user cannot bind twice, and nothing
    // referring to it can be deleted.
    assert_eq!(
        bind("081804", "050471", "ned").await.unwrap_err().code,
        "EntityAlreadyExists.VirtualMFADevice.User"
    );
    assert_eq!(
        bind("081804", "050471", "mia").await.unwrap_err().code,
        "EntityAlreadyExists.User.MFADevice"
    );
    assert_eq!(
        ram(&env, "DeleteVirtualMFADevice", &[("SerialNumber", &serial)])
            .await
            .unwrap_err()
            .code,
        "DeleteConflict.VirtualMFADevice.User"
    );
    assert_eq!(
        ram(&env, "DeleteUser", &[("UserName", "mia")])
            .await
            .unwrap_err()
            .code,
        "DeleteConflict.User.MFADevice"
    );

    // Unbind, then the used codes cannot be replayed to bind again.
    let unbound = ram(&env, "UnbindMFADevice", &[("UserName", "mia")])
        .await
        .unwrap();
    assert_eq!(unbound["MFADevice"]["SerialNumber"], serial.as_str());
    assert_eq!(
        bind("081804", "050471", "ned").await.unwrap_err().code,
        "CheckAuthenticationCodeFail"
    );
    // The next two steps work (codes computed independently from the RFC seed).
    clock.set_ms(1_111_111_111_000 + 60_000);
    let now_step = totp::step_at(1_111_111_111 + 60);
    let c1 = totp::code(RFC_SECRET, now_step - 1);
    let c2 = totp::code(RFC_SECRET, now_step);
    ram(
        &env,
        "BindMFADevice",
        &[
            ("UserName", "ned"),
            ("SerialNumber", &serial),
            ("AuthenticationCode1", &c1),
            ("AuthenticationCode2", &c2),
        ],
    )
    .await
    .unwrap();
    ram(&env, "UnbindMFADevice", &[("UserName", "ned")])
        .await
        .unwrap();
    ram(&env, "DeleteVirtualMFADevice", &[("SerialNumber", &serial)])
        .await
        .unwrap();
    assert_eq!(
        ram(&env, "ListVirtualMFADevices", &[]).await.unwrap()["VirtualMFADevices"]["VirtualMFADevice"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    ram(&env, "DeleteUser", &[("UserName", "mia")])
        .await
        .unwrap();
}

#[tokio::test]
async fn created_device_returns_the_seed_once_and_binds_with_it() {
    let (env, _clock) = env_with_clock(
        Store::open_sqlite_memory().await.unwrap(),
        1_700_000_000_000,
    )
    .await;
    ram(&env, "CreateUser", &[("UserName", "ola")])
        .await
        .unwrap();
    let created = ram(
        &env,
        "CreateVirtualMFADevice",
        &[("VirtualMFADeviceName", "ola-phone")],
    )
    .await
    .unwrap();
    let device = &created["VirtualMFADevice"];
    let serial = device["SerialNumber"].as_str().unwrap().to_owned();
    assert_eq!(serial, format!("acs:ram::{}:mfa/ola-phone", env.management));
    let seed_b32 = device["Base32StringSeed"].as_str().unwrap().to_owned();
    let uri = device["OTPAuthURI"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={seed_b32}")),
        "{uri}"
    );
    let seed = totp::base32_decode(&seed_b32).unwrap();
    assert_eq!(seed.len(), 20);

    // Stored sealed under the serial number, never as the seed or its Base32 form.
    let stored = env
        .state
        .store
        .get_mfa_device(&env.management, "ola-phone")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !stored
            .seed_ciphertext
            .windows(seed.len())
            .any(|w| w == seed.as_slice())
    );
    assert!(
        !stored
            .seed_ciphertext
            .windows(seed_b32.len())
            .any(|w| w == seed_b32.as_bytes())
    );
    assert_eq!(
        env.state
            .secrets
            .open(&stored.seed_ciphertext, serial.as_bytes())
            .unwrap()
            .as_slice(),
        seed.as_slice()
    );

    let step = totp::step_at(1_700_000_000);
    let (c1, c2) = (totp::code(&seed, step - 1), totp::code(&seed, step));
    ram(
        &env,
        "BindMFADevice",
        &[
            ("UserName", "ola"),
            ("SerialNumber", &serial),
            ("AuthenticationCode1", &c1),
            ("AuthenticationCode2", &c2),
        ],
    )
    .await
    .unwrap();
    // No read action returns the seed again.
    for (action, params) in [
        ("ListVirtualMFADevices", vec![]),
        ("GetUserMFAInfo", vec![("UserName", "ola")]),
    ] {
        let body = ram(&env, action, &params).await.unwrap().to_string();
        assert!(!body.contains(&seed_b32), "{action} leaked the seed");
    }
    // Another account's serial number is not found in this account.
    let foreign = "acs:ram::9999999999999999:mfa/ola-phone";
    assert_eq!(
        ram(&env, "DeleteVirtualMFADevice", &[("SerialNumber", foreign)])
            .await
            .unwrap_err()
            .code,
        "NoPermission",
        "the ARN names another account: refused before the handler"
    );
}
