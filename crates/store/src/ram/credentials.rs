//! Console login profiles, virtual MFA devices, and the RAM-side management of AccessKeys
//! (the `access_keys` table itself belongs to migration 1).
//!
//! Passwords are stored only as Argon2id PHC strings and MFA seeds only as ciphertext; both
//! are produced by the caller, so this crate never sees a plaintext secret.

use sqlx::Row;

use super::{flag, to_flag};
use crate::{AccessKeyOwner, AccessKeyRecord, AccessKeyStatus, Store, StoreError, on_pool};

/// A user's console login profile.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginProfileRecord {
    /// Owning account.
    pub account_id: String,
    /// The user.
    pub user_id: String,
    /// Argon2id PHC string of the password.
    pub password_hash: String,
    /// The user must change the password at next logon.
    pub password_reset_required: bool,
    /// The user must bind an MFA device at next logon.
    pub mfa_bind_required: bool,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
    /// Last change, ms since the epoch.
    pub updated_at_ms: i64,
    /// `Active`, or `Inactive` (cannot sign in; set by an administrator or by the idle
    /// disabling job).
    pub status: LoginProfileStatus,
    /// Last successful console sign-in, ms since the epoch.
    pub last_login_at_ms: Option<i64>,
    /// When the current password was set, ms since the epoch (`MaxPasswordAge` counts
    /// from here).
    pub password_changed_at_ms: i64,
    /// Temporary lock after too many failed sign-ins: refused until this time (ms).
    /// Written only by [`Store::set_login_lock`]; [`Store::update_login_profile`] keeps it.
    pub locked_until_ms: Option<i64>,
    /// Locked because the password looks leaked (failures from many addresses), since
    /// this time (ms); refused until an administrator sets a new password. Written only
    /// by [`Store::set_login_lock`].
    pub leak_locked_at_ms: Option<i64>,
}

/// Whether a login profile may be used to sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginProfileStatus {
    /// May sign in.
    Active,
    /// Refused at sign-in.
    Inactive,
}

impl LoginProfileStatus {
    /// Alibaba's spelling (`Active` / `Inactive`).
    pub fn as_str(self) -> &'static str {
        match self {
            LoginProfileStatus::Active => "Active",
            LoginProfileStatus::Inactive => "Inactive",
        }
    }

    /// Parses Alibaba's spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "Active" => Some(LoginProfileStatus::Active),
            "Inactive" => Some(LoginProfileStatus::Inactive),
            _ => None,
        }
    }

    pub(crate) fn from_column(text: &str) -> Result<Self, StoreError> {
        Self::parse(text).ok_or(StoreError::Corrupt {
            what: "ram_login_profiles.status",
        })
    }
}

impl std::fmt::Debug for LoginProfileRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginProfileRecord")
            .field("account_id", &self.account_id)
            .field("user_id", &self.user_id)
            .field("password_reset_required", &self.password_reset_required)
            .field("mfa_bind_required", &self.mfa_bind_required)
            .field("status", &self.status)
            .field("last_login_at_ms", &self.last_login_at_ms)
            .field("locked_until_ms", &self.locked_until_ms)
            .field("leak_locked_at_ms", &self.leak_locked_at_ms)
            .finish_non_exhaustive()
    }
}

/// A virtual MFA device.
#[derive(Clone, PartialEq, Eq)]
pub struct MfaDeviceRecord {
    /// Owning account.
    pub account_id: String,
    /// Device name, unique in the account.
    pub device_name: String,
    /// `acs:ram::<account>:mfa/<name>`.
    pub serial_number: String,
    /// TOTP seed encrypted under the root key (context: the serial number).
    pub seed_ciphertext: Vec<u8>,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
    /// The user it is bound to, if any.
    pub user_id: Option<String>,
    /// When it was bound, ms since the epoch.
    pub activated_at_ms: Option<i64>,
    /// The last TOTP time step accepted (codes at or before it are never accepted again).
    pub last_used_step: Option<i64>,
}

impl std::fmt::Debug for MfaDeviceRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaDeviceRecord")
            .field("account_id", &self.account_id)
            .field("serial_number", &self.serial_number)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Columns of [`LoginProfileRecord`], in the order [`profile_from_row`] reads them.
pub(crate) const PROFILE_COLUMNS: &str = "account_id, user_id, password_hash, password_reset_required, mfa_bind_required, created_at_ms, updated_at_ms, status, last_login_at_ms, password_changed_at_ms, locked_until_ms, leak_locked_at_ms";

/// A [`LoginProfileRecord`] from a row selected with [`PROFILE_COLUMNS`].
macro_rules! profile_from_row {
    ($row:expr) => {
        LoginProfileRecord {
            account_id: $row.try_get(0)?,
            user_id: $row.try_get(1)?,
            password_hash: $row.try_get(2)?,
            password_reset_required: flag($row.try_get(3)?),
            mfa_bind_required: flag($row.try_get(4)?),
            created_at_ms: $row.try_get(5)?,
            updated_at_ms: $row.try_get(6)?,
            status: LoginProfileStatus::from_column(&$row.try_get::<String, _>(7)?)?,
            last_login_at_ms: $row.try_get(8)?,
            password_changed_at_ms: $row.try_get(9)?,
            locked_until_ms: $row.try_get(10)?,
            leak_locked_at_ms: $row.try_get(11)?,
        }
    };
}
pub(crate) use profile_from_row;

const MFA_COLUMNS: &str = "account_id, device_name, serial_number, seed_ciphertext, created_at_ms, user_id, activated_at_ms, last_used_step";

macro_rules! mfa_from_row {
    ($row:expr) => {
        MfaDeviceRecord {
            account_id: $row.try_get(0)?,
            device_name: $row.try_get(1)?,
            serial_number: $row.try_get(2)?,
            seed_ciphertext: $row.try_get(3)?,
            created_at_ms: $row.try_get(4)?,
            user_id: $row.try_get(5)?,
            activated_at_ms: $row.try_get(6)?,
            last_used_step: $row.try_get(7)?,
        }
    };
}

fn owner_key<'a>(account_id: &'a str, owner: &'a AccessKeyOwner) -> (&'static str, &'a str) {
    match owner {
        AccessKeyOwner::Root => ("root", account_id),
        AccessKeyOwner::User { user_id, .. } => ("user", user_id.as_str()),
    }
}

impl Store {
    /// Creates a login profile; an existing one is `AlreadyExists { entity: "login profile" }`.
    pub async fn insert_login_profile(
        &self,
        profile: &LoginProfileRecord,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO ram_login_profiles (account_id, user_id, password_hash, password_reset_required, mfa_bind_required, created_at_ms, updated_at_ms, status, last_login_at_ms, password_changed_at_ms, locked_until_ms, leak_locked_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL)",
            )
            .bind(&profile.account_id)
            .bind(&profile.user_id)
            .bind(&profile.password_hash)
            .bind(to_flag(profile.password_reset_required))
            .bind(to_flag(profile.mfa_bind_required))
            .bind(profile.created_at_ms)
            .bind(profile.updated_at_ms)
            .bind(profile.status.as_str())
            .bind(profile.last_login_at_ms)
            .bind(profile.password_changed_at_ms)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "login profile"))?;
        });
        Ok(())
    }

    /// A user's login profile.
    pub async fn get_login_profile(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<Option<LoginProfileRecord>, StoreError> {
        let profile = on_pool!(self, |pool| {
            let row = sqlx::query(sql!(
                "SELECT {PROFILE_COLUMNS} FROM ram_login_profiles WHERE account_id = $1 AND user_id = $2"
            ))
            .bind(account_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some(profile_from_row!(row)),
            }
        });
        Ok(profile)
    }

    /// Rewrites a login profile (password, flags, status, password change time); returns
    /// whether it exists. The lock columns and the last sign-in time are left alone.
    pub async fn update_login_profile(
        &self,
        profile: &LoginProfileRecord,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_login_profiles SET password_hash = $3, password_reset_required = $4, mfa_bind_required = $5, updated_at_ms = $6, status = $7, password_changed_at_ms = $8 WHERE account_id = $1 AND user_id = $2",
            )
            .bind(&profile.account_id)
            .bind(&profile.user_id)
            .bind(&profile.password_hash)
            .bind(to_flag(profile.password_reset_required))
            .bind(to_flag(profile.mfa_bind_required))
            .bind(profile.updated_at_ms)
            .bind(profile.status.as_str())
            .bind(profile.password_changed_at_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Deletes a login profile; returns whether it existed.
    pub async fn delete_login_profile(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query("DELETE FROM ram_login_profiles WHERE account_id = $1 AND user_id = $2")
                .bind(account_id)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Creates an (unbound) virtual MFA device unless the account has `limit` devices
    /// (then `false`); a taken name is `AlreadyExists { entity: "virtual MFA device" }`.
    pub async fn insert_mfa_device(
        &self,
        device: &MfaDeviceRecord,
        limit: i64,
    ) -> Result<bool, StoreError> {
        let inserted = on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO ram_mfa_devices (account_id, device_name, serial_number, seed_ciphertext, created_at_ms, user_id, activated_at_ms, last_used_step) SELECT $1, $2, $3, $4, $5, NULL, NULL, NULL WHERE (SELECT COUNT(*) FROM ram_mfa_devices WHERE account_id = $1) < $6",
            )
            .bind(&device.account_id)
            .bind(&device.device_name)
            .bind(&device.serial_number)
            .bind(&device.seed_ciphertext)
            .bind(device.created_at_ms)
            .bind(limit)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "virtual MFA device"))?
            .rows_affected()
        });
        Ok(inserted == 1)
    }

    /// A virtual MFA device by name.
    pub async fn get_mfa_device(
        &self,
        account_id: &str,
        device_name: &str,
    ) -> Result<Option<MfaDeviceRecord>, StoreError> {
        self.mfa_where("device_name", account_id, device_name).await
    }

    /// The MFA device bound to a user.
    pub async fn get_mfa_device_for_user(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<Option<MfaDeviceRecord>, StoreError> {
        self.mfa_where("user_id", account_id, user_id).await
    }

    async fn mfa_where(
        &self,
        column: &'static str,
        account_id: &str,
        value: &str,
    ) -> Result<Option<MfaDeviceRecord>, StoreError> {
        let device = on_pool!(self, |pool| {
            let row = sqlx::query(sql!(
                "SELECT {MFA_COLUMNS} FROM ram_mfa_devices WHERE account_id = $1 AND {column} = $2"
            ))
            .bind(account_id)
            .bind(value)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some(mfa_from_row!(row)),
            }
        });
        Ok(device)
    }

    /// Every virtual MFA device of the account, by name.
    pub async fn list_mfa_devices(
        &self,
        account_id: &str,
    ) -> Result<Vec<MfaDeviceRecord>, StoreError> {
        let devices = on_pool!(self, |pool| {
            let rows = sqlx::query(sql!(
                "SELECT {MFA_COLUMNS} FROM ram_mfa_devices WHERE account_id = $1 ORDER BY device_name"
            ))
            .bind(account_id)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(mfa_from_row!(row));
            }
            out
        });
        Ok(devices)
    }

    /// Binds an unbound device to a user, recording the last accepted TOTP step. Returns
    /// `false` if the device is missing or already bound; a user that already has a device
    /// is `AlreadyExists { entity: "user MFA device" }`.
    pub async fn bind_mfa_device(
        &self,
        account_id: &str,
        device_name: &str,
        user_id: &str,
        now_ms: i64,
        last_used_step: i64,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_mfa_devices SET user_id = $3, activated_at_ms = $4, last_used_step = $5 WHERE account_id = $1 AND device_name = $2 AND user_id IS NULL",
            )
            .bind(account_id)
            .bind(device_name)
            .bind(user_id)
            .bind(now_ms)
            .bind(last_used_step)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "user MFA device"))?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Unbinds the user's device; returns it as it was, if there was one. The last used
    /// TOTP step is kept, so codes already used can never bind the device again.
    pub async fn unbind_mfa_device(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<Option<MfaDeviceRecord>, StoreError> {
        let Some(device) = self.get_mfa_device_for_user(account_id, user_id).await? else {
            return Ok(None);
        };
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_mfa_devices SET user_id = NULL, activated_at_ms = NULL WHERE account_id = $1 AND device_name = $2 AND user_id = $3",
            )
            .bind(account_id)
            .bind(&device.device_name)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok((changed == 1).then_some(device))
    }

    /// Deletes an unbound device; returns whether one was deleted.
    pub async fn delete_mfa_device(
        &self,
        account_id: &str,
        device_name: &str,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM ram_mfa_devices WHERE account_id = $1 AND device_name = $2 AND user_id IS NULL",
            )
            .bind(account_id)
            .bind(device_name)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Stores a new AccessKey unless its owner already has `limit` keys (then `false`).
    pub async fn insert_access_key_limited(
        &self,
        key: &AccessKeyRecord,
        limit: i64,
    ) -> Result<bool, StoreError> {
        let (owner_kind, owner_id) = owner_key(&key.account_id, &key.owner);
        let owner_name = match &key.owner {
            AccessKeyOwner::Root => "root",
            AccessKeyOwner::User { user_name, .. } => user_name.as_str(),
        };
        let inserted = on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO access_keys (access_key_id, account_id, owner_kind, owner_id, owner_name, secret_ciphertext, status, created_at_ms, last_used_at_ms) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE (SELECT COUNT(*) FROM access_keys WHERE account_id = $2 AND owner_kind = $3 AND owner_id = $4) < $10",
            )
            .bind(&key.access_key_id)
            .bind(&key.account_id)
            .bind(owner_kind)
            .bind(owner_id)
            .bind(owner_name)
            .bind(&key.secret_ciphertext)
            .bind(key.status.as_str())
            .bind(key.created_at_ms)
            .bind(key.last_used_at_ms)
            .bind(limit)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "access key"))?
            .rows_affected()
        });
        Ok(inserted == 1)
    }

    /// Changes the status of a key owned by `owner` in the account; returns whether it
    /// exists (a key of another identity is never touched).
    pub async fn set_owned_access_key_status(
        &self,
        account_id: &str,
        owner: &AccessKeyOwner,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<bool, StoreError> {
        let (owner_kind, owner_id) = owner_key(account_id, owner);
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE access_keys SET status = $5 WHERE account_id = $1 AND owner_kind = $2 AND owner_id = $3 AND access_key_id = $4",
            )
            .bind(account_id)
            .bind(owner_kind)
            .bind(owner_id)
            .bind(access_key_id)
            .bind(status.as_str())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Deletes a key owned by `owner` in the account; returns whether it existed.
    pub async fn delete_owned_access_key(
        &self,
        account_id: &str,
        owner: &AccessKeyOwner,
        access_key_id: &str,
    ) -> Result<bool, StoreError> {
        let (owner_kind, owner_id) = owner_key(account_id, owner);
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM access_keys WHERE account_id = $1 AND owner_kind = $2 AND owner_id = $3 AND access_key_id = $4",
            )
            .bind(account_id)
            .bind(owner_kind)
            .bind(owner_id)
            .bind(access_key_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }
}
