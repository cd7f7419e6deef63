//! AccessKeys. The secret is stored only as ciphertext produced by the caller (the server
//! encrypts it under the deployment's root key); this crate never sees a plaintext secret.

use sqlx::Row;

use crate::{Store, StoreError, on_pool};

/// Who an AccessKey belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessKeyOwner {
    /// The account's root identity.
    Root,
    /// A RAM user, by user id and user name.
    User {
        /// Stable user id.
        user_id: String,
        /// Current user name.
        user_name: String,
    },
}

/// Whether a key may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessKeyStatus {
    /// Usable.
    Active,
    /// Rejected with `InvalidAccessKeyId.Inactive`.
    Inactive,
}

impl AccessKeyStatus {
    /// Alibaba's spelling (`Active` / `Inactive`).
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKeyStatus::Active => "Active",
            AccessKeyStatus::Inactive => "Inactive",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "Active" => Ok(AccessKeyStatus::Active),
            "Inactive" => Ok(AccessKeyStatus::Inactive),
            _ => Err(StoreError::Corrupt {
                what: "access_keys.status",
            }),
        }
    }
}

/// One AccessKey row.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    /// Public id (`LTAI…`).
    pub access_key_id: String,
    /// Owning account.
    pub account_id: String,
    /// Owning identity within the account.
    pub owner: AccessKeyOwner,
    /// Secret encrypted under the root key (nonce ‖ ciphertext ‖ tag).
    pub secret_ciphertext: Vec<u8>,
    /// Active or inactive.
    pub status: AccessKeyStatus,
    /// Creation time, ms since epoch.
    pub created_at_ms: i64,
    /// Last successful authentication, ms since epoch.
    pub last_used_at_ms: Option<i64>,
}

impl std::fmt::Debug for AccessKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The ciphertext is not secret by itself, but keeping it out of logs costs nothing.
        f.debug_struct("AccessKeyRecord")
            .field("access_key_id", &self.access_key_id)
            .field("account_id", &self.account_id)
            .field("owner", &self.owner)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Stores a new AccessKey.
    pub async fn insert_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError> {
        let (owner_kind, owner_id, owner_name) = match &key.owner {
            AccessKeyOwner::Root => ("root", key.account_id.as_str(), "root"),
            AccessKeyOwner::User { user_id, user_name } => {
                ("user", user_id.as_str(), user_name.as_str())
            }
        };
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO access_keys (access_key_id, account_id, owner_kind, owner_id, owner_name, secret_ciphertext, status, created_at_ms, last_used_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "access key"))?;
        });
        Ok(())
    }

    /// Finds a key by its public id. This is the one lookup not scoped by account: the
    /// account is what authentication is about to establish.
    pub async fn find_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyRecord>, StoreError> {
        let row = on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT access_key_id, account_id, owner_kind, owner_id, owner_name, secret_ciphertext, status, created_at_ms, last_used_at_ms FROM access_keys WHERE access_key_id = $1",
            )
            .bind(access_key_id)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some(RawKey {
                    access_key_id: row.try_get(0)?,
                    account_id: row.try_get(1)?,
                    owner_kind: row.try_get(2)?,
                    owner_id: row.try_get(3)?,
                    owner_name: row.try_get(4)?,
                    secret_ciphertext: row.try_get(5)?,
                    status: row.try_get(6)?,
                    created_at_ms: row.try_get(7)?,
                    last_used_at_ms: row.try_get(8)?,
                }),
            }
        });
        row.map(RawKey::into_record).transpose()
    }

    /// Lists the keys of one identity in one account.
    pub async fn list_access_keys(
        &self,
        account_id: &str,
        owner: &AccessKeyOwner,
    ) -> Result<Vec<AccessKeyRecord>, StoreError> {
        let (owner_kind, owner_id) = match owner {
            AccessKeyOwner::Root => ("root", account_id),
            AccessKeyOwner::User { user_id, .. } => ("user", user_id.as_str()),
        };
        self.keys_where(account_id, owner_kind, Some(owner_id))
            .await
    }

    /// Every AccessKey of the account's RAM users (not the root identity's), for the
    /// idle-credential sweep.
    pub async fn list_user_access_keys_in_account(
        &self,
        account_id: &str,
    ) -> Result<Vec<AccessKeyRecord>, StoreError> {
        self.keys_where(account_id, "user", None).await
    }

    /// Keys of `owner_kind` in the account, of one owner when `owner_id` is given.
    async fn keys_where(
        &self,
        account_id: &str,
        owner_kind: &str,
        owner_id: Option<&str>,
    ) -> Result<Vec<AccessKeyRecord>, StoreError> {
        let rows = on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT access_key_id, account_id, owner_kind, owner_id, owner_name, secret_ciphertext, status, created_at_ms, last_used_at_ms FROM access_keys WHERE account_id = $1 AND owner_kind = $2 AND ($3 IS NULL OR owner_id = $3) ORDER BY created_at_ms, access_key_id",
            )
            .bind(account_id)
            .bind(owner_kind)
            .bind(owner_id)
            .fetch_all(pool)
            .await?;
            let mut raw = Vec::with_capacity(rows.len());
            for row in rows {
                raw.push(RawKey {
                    access_key_id: row.try_get(0)?,
                    account_id: row.try_get(1)?,
                    owner_kind: row.try_get(2)?,
                    owner_id: row.try_get(3)?,
                    owner_name: row.try_get(4)?,
                    secret_ciphertext: row.try_get(5)?,
                    status: row.try_get(6)?,
                    created_at_ms: row.try_get(7)?,
                    last_used_at_ms: row.try_get(8)?,
                });
            }
            raw
        });
        rows.into_iter().map(RawKey::into_record).collect()
    }

    /// Changes a key's status within its account; returns whether a row changed.
    pub async fn set_access_key_status(
        &self,
        account_id: &str,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE access_keys SET status = $1 WHERE account_id = $2 AND access_key_id = $3",
            )
            .bind(status.as_str())
            .bind(account_id)
            .bind(access_key_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Records the last successful use of a key (called in batches, not per request).
    pub async fn record_access_key_use(
        &self,
        access_key_id: &str,
        used_at_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE access_keys SET last_used_at_ms = $1 WHERE access_key_id = $2 AND (last_used_at_ms IS NULL OR last_used_at_ms < $1)",
            )
            .bind(used_at_ms)
            .bind(access_key_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}

struct RawKey {
    access_key_id: String,
    account_id: String,
    owner_kind: String,
    owner_id: String,
    owner_name: String,
    secret_ciphertext: Vec<u8>,
    status: String,
    created_at_ms: i64,
    last_used_at_ms: Option<i64>,
}

impl RawKey {
    fn into_record(self) -> Result<AccessKeyRecord, StoreError> {
        let owner = match self.owner_kind.as_str() {
            "root" => AccessKeyOwner::Root,
            "user" => AccessKeyOwner::User {
                user_id: self.owner_id,
                user_name: self.owner_name,
            },
            _ => {
                return Err(StoreError::Corrupt {
                    what: "access_keys.owner_kind",
                });
            }
        };
        Ok(AccessKeyRecord {
            access_key_id: self.access_key_id,
            account_id: self.account_id,
            owner,
            secret_ciphertext: self.secret_ciphertext,
            status: AccessKeyStatus::parse(&self.status)?,
            created_at_ms: self.created_at_ms,
            last_used_at_ms: self.last_used_at_ms,
        })
    }
}
