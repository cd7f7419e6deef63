//! Virtual MFA devices (TOTP). The seed is generated here, returned once (Base32 and as an
//! `otpauth://` URI; no QR image is rendered) and stored only sealed under the root key,
//! bound to the device's serial number.

use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture, random_bytes};
use cloudward_store::MfaDeviceRecord;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::totp;
use super::{MAX_MFA_DEVICES, account, conflict, set, user_by_name};
use crate::util::{
    self, check_name, delete_conflict, entity_already_exists, entity_not_exist, invalid,
    limit_exceeded, required,
};

/// `acs:ram::<account>:mfa/<name>` → `(account, name)`.
pub(super) fn parse_serial(serial: &str) -> Option<(&str, &str)> {
    let rest = serial.strip_prefix("acs:ram::")?;
    let (account, name) = rest.split_once(":mfa/")?;
    (!account.is_empty() && !name.is_empty()).then_some((account, name))
}

fn device_not_exist() -> ApiError {
    entity_not_exist("VirtualMFADevice", "The virtual MFA device does not exist.")
}

/// The device named by `SerialNumber` in the caller's account.
async fn device_by_serial(call: &Call<'_>) -> Result<MfaDeviceRecord, ApiError> {
    let serial = required(call.params, "SerialNumber")?;
    let Some((serial_account, name)) = parse_serial(serial) else {
        return Err(invalid(
            "InvalidParameter.SerialNumber",
            "The parameter SerialNumber must be acs:ram::<account>:mfa/<name>.",
        ));
    };
    if serial_account != account(call) {
        return Err(device_not_exist());
    }
    call.state
        .store
        .get_mfa_device(account(call), name)
        .await
        .map_err(util::store_error)?
        .ok_or_else(device_not_exist)
}

fn check_code_format(code: &str) -> Result<(), ApiError> {
    if code.len() == totp::DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid(
            "InvalidParameter.AuthenticationCode.Format",
            "The authentication code must be 6 digits.",
        ))
    }
}

pub(super) fn create_virtual_mfa_device(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let name = required(call.params, "VirtualMFADeviceName")?;
        check_name(name, 64, "._-", "InvalidParameter.VirtualMFADeviceName")?;
        let acct = account(&call);
        let serial = format!("acs:ram::{acct}:mfa/{name}");
        let seed = Zeroizing::new(random_bytes::<20>().map_err(|_| ApiError::internal())?);
        let sealed = call
            .state
            .secrets
            .seal(seed.as_slice(), serial.as_bytes())
            .map_err(|_| ApiError::internal())?;
        let device = MfaDeviceRecord {
            account_id: acct.to_owned(),
            device_name: name.to_owned(),
            serial_number: serial.clone(),
            seed_ciphertext: sealed,
            created_at_ms: util::now_ms(call.state),
            user_id: None,
            activated_at_ms: None,
            last_used_step: None,
        };
        let inserted = call
            .state
            .store
            .insert_mfa_device(&device, MAX_MFA_DEVICES)
            .await
            .map_err(|e| {
                conflict(
                    e,
                    "VirtualMFADevice",
                    "The virtual MFA device does already EXIST.",
                )
            })?;
        if !inserted {
            return Err(limit_exceeded(
                "VirtualMFADevice",
                format!(
                    "The count of virtual MFA devices beyond the current limits ({MAX_MFA_DEVICES})."
                ),
            ));
        }
        let base32 = Zeroizing::new(totp::base32_encode(seed.as_slice()));
        let uri = format!(
            "otpauth://totp/{name}@{acct}?secret={}&issuer=Cloudward&algorithm=SHA1&digits=6&period=30",
            base32.as_str()
        );
        Ok(json!({
            "VirtualMFADevice": {
                "SerialNumber": serial,
                "Base32StringSeed": base32.as_str(),
                "OTPAuthURI": uri,
            }
        }))
    })
}

pub(super) fn delete_virtual_mfa_device(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let device = device_by_serial(&call).await?;
        if device.user_id.is_some() {
            return Err(delete_conflict(
                "VirtualMFADevice.User",
                "The virtual MFA device CAN NOT be bound to a user while deleting it.",
            ));
        }
        if !call
            .state
            .store
            .delete_mfa_device(account(&call), &device.device_name)
            .await
            .map_err(util::store_error)?
        {
            return Err(delete_conflict(
                "VirtualMFADevice.User",
                "The virtual MFA device CAN NOT be bound to a user while deleting it.",
            ));
        }
        Ok(json!({}))
    })
}

pub(super) fn list_virtual_mfa_devices(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let store = &call.state.store;
        let acct = account(&call);
        let devices = store
            .list_mfa_devices(acct)
            .await
            .map_err(util::store_error)?;
        let mut items: Vec<Value> = Vec::with_capacity(devices.len());
        for d in devices {
            let mut item = json!({ "SerialNumber": d.serial_number });
            if let Some(at) = d.activated_at_ms {
                set(&mut item, "ActivateDate", json!(util::iso8601(at)));
            }
            if let Some(user_id) = &d.user_id
                && let Some(user) = store
                    .get_user_by_id(acct, user_id)
                    .await
                    .map_err(util::store_error)?
            {
                set(
                    &mut item,
                    "User",
                    json!({
                        "UserId": user.user_id,
                        "UserName": user.user_name,
                        "DisplayName": user.display_name,
                    }),
                );
            }
            items.push(item);
        }
        Ok(json!({ "VirtualMFADevices": { "VirtualMFADevice": items } }))
    })
}

pub(super) fn bind_mfa_device(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let user = user_by_name(&call, required(call.params, "UserName")?).await?;
        let code1 = required(call.params, "AuthenticationCode1")?;
        let code2 = required(call.params, "AuthenticationCode2")?;
        check_code_format(code1)?;
        check_code_format(code2)?;
        let device = device_by_serial(&call).await?;
        match &device.user_id {
            Some(bound) if *bound == user.user_id => {
                return Err(entity_already_exists(
                    "User.MFADevice",
                    "The user has already bound an MFA device.",
                ));
            }
            Some(_) => {
                return Err(entity_already_exists(
                    "VirtualMFADevice.User",
                    "The virtual MFA device is already bound to another user.",
                ));
            }
            None => {}
        }
        let seed = call
            .state
            .secrets
            .open(&device.seed_ciphertext, device.serial_number.as_bytes())
            .map_err(|_| ApiError::internal())?;
        let now = util::now_ms(call.state);
        let step = totp::step_at(now.div_euclid(1000));
        let Some(used_step) =
            totp::verify_consecutive(&seed, step, code1, code2, device.last_used_step)
        else {
            return Err(invalid(
                "CheckAuthenticationCodeFail",
                "The authentication codes are not two consecutive valid codes of the device.",
            ));
        };
        let bound = call
            .state
            .store
            .bind_mfa_device(
                account(&call),
                &device.device_name,
                &user.user_id,
                now,
                used_step,
            )
            .await
            .map_err(|e| {
                conflict(
                    e,
                    "User.MFADevice",
                    "The user has already bound an MFA device.",
                )
            })?;
        if !bound {
            return Err(entity_already_exists(
                "VirtualMFADevice.User",
                "The virtual MFA device is already bound to another user.",
            ));
        }
        Ok(json!({}))
    })
}

pub(super) fn unbind_mfa_device(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let user = user_by_name(&call, required(call.params, "UserName")?).await?;
        let device = call
            .state
            .store
            .unbind_mfa_device(account(&call), &user.user_id)
            .await
            .map_err(util::store_error)?
            .ok_or_else(|| {
                entity_not_exist("User.MFADevice", "The user has not bound any MFA device.")
            })?;
        Ok(json!({ "MFADevice": { "SerialNumber": device.serial_number } }))
    })
}

pub(super) fn get_user_mfa_info(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let user = user_by_name(&call, required(call.params, "UserName")?).await?;
        let device = call
            .state
            .store
            .get_mfa_device_for_user(account(&call), &user.user_id)
            .await
            .map_err(util::store_error)?
            .ok_or_else(|| {
                entity_not_exist("User.MFADevice", "The user has not bound any MFA device.")
            })?;
        Ok(json!({ "MFADevice": { "SerialNumber": device.serial_number, "Type": "VMFA" } }))
    })
}
