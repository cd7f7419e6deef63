//! Accounts: the tenants. The first one is the organization's management account.

use sqlx::Row;

use crate::{Store, StoreError, on_pool};

/// Role of an account in the organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountKind {
    /// The organization's management account (exempt from control policies).
    Management,
    /// A member account created inside the resource directory.
    Member,
}

impl AccountKind {
    fn as_str(self) -> &'static str {
        match self {
            AccountKind::Management => "management",
            AccountKind::Member => "member",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "management" => Ok(AccountKind::Management),
            "member" => Ok(AccountKind::Member),
            _ => Err(StoreError::Corrupt {
                what: "accounts.kind",
            }),
        }
    }
}

/// One account row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRecord {
    /// 16-digit account id, as Alibaba Cloud formats them.
    pub account_id: String,
    /// Human name of the account.
    pub display_name: String,
    /// Management or member.
    pub kind: AccountKind,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

impl Store {
    /// Inserts a new account; fails with `AlreadyExists` if the id is taken.
    pub async fn insert_account(&self, account: &AccountRecord) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO accounts (account_id, display_name, kind, created_at_ms) VALUES ($1, $2, $3, $4)",
            )
            .bind(&account.account_id)
            .bind(&account.display_name)
            .bind(account.kind.as_str())
            .bind(account.created_at_ms)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "account"))?;
        });
        Ok(())
    }

    /// Looks an account up by id.
    pub async fn get_account(&self, account_id: &str) -> Result<Option<AccountRecord>, StoreError> {
        let row = on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT account_id, display_name, kind, created_at_ms FROM accounts WHERE account_id = $1",
            )
            .bind(account_id)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some((
                    row.try_get::<String, _>(0)?,
                    row.try_get::<String, _>(1)?,
                    row.try_get::<String, _>(2)?,
                    row.try_get::<i64, _>(3)?,
                )),
            }
        });
        row.map(|(account_id, display_name, kind, created_at_ms)| {
            Ok(AccountRecord {
                account_id,
                display_name,
                kind: AccountKind::parse(&kind)?,
                created_at_ms,
            })
        })
        .transpose()
    }
}
