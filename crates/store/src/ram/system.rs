//! The catalogue of system policies: versioned data shipped in the repository
//! (`crates/iam/policies/system/<Name>.json`, one policy document per file) and compiled
//! into the binary. Every account can read and attach them; nobody can modify them. A
//! change to a document is a new `version` here (and a new release), never an edit in a
//! database.

/// One system policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemPolicy {
    /// Policy name (e.g. `AdministratorAccess`).
    pub name: &'static str,
    /// Human description, as `GetPolicy` reports it.
    pub description: &'static str,
    /// The (only, default) version id, e.g. `v1`.
    pub version: &'static str,
    /// When this version was published, ms since the Unix epoch.
    pub published_at_ms: i64,
    /// The policy document (JSON text).
    pub document: &'static str,
}

macro_rules! system_policy {
    ($name:literal, $description:literal, $version:literal, $published:expr) => {
        SystemPolicy {
            name: $name,
            description: $description,
            version: $version,
            published_at_ms: $published,
            document: include_str!(concat!("../../../iam/policies/system/", $name, ".json")),
        }
    };
}

/// 2026-01-01T00:00:00Z, the publication date of the first catalogue.
const FIRST_RELEASE_MS: i64 = 1_767_225_600_000;

const CATALOGUE: &[SystemPolicy] = &[
    system_policy!(
        "AdministratorAccess",
        "Permission for managing all resources of the account.",
        "v1",
        FIRST_RELEASE_MS
    ),
    system_policy!(
        "ReadOnlyAccess",
        "Read-only permission (Get*, List*, Describe*, Lookup*) on all resources of the account.",
        "v1",
        FIRST_RELEASE_MS
    ),
    system_policy!(
        "AliyunRAMFullAccess",
        "Permission for managing Resource Access Management (RAM): users, groups, roles, policies and credentials.",
        "v1",
        FIRST_RELEASE_MS
    ),
    system_policy!(
        "AliyunRAMReadOnlyAccess",
        "Read-only permission on Resource Access Management (RAM).",
        "v1",
        FIRST_RELEASE_MS
    ),
    system_policy!(
        "AliyunSTSAssumeRoleAccess",
        "Permission for calling the AssumeRole operation of Security Token Service (STS).",
        "v1",
        FIRST_RELEASE_MS
    ),
    system_policy!(
        "AliyunResourceDirectoryFullAccess",
        "Permission for managing Resource Directory.",
        "v1",
        FIRST_RELEASE_MS
    ),
    system_policy!(
        "AliyunResourceDirectoryReadOnlyAccess",
        "Read-only permission on Resource Directory.",
        "v1",
        FIRST_RELEASE_MS
    ),
    system_policy!(
        "AliyunActionTrailFullAccess",
        "Permission for managing ActionTrail.",
        "v1",
        FIRST_RELEASE_MS
    ),
    system_policy!(
        "AliyunActionTrailReadOnlyAccess",
        "Read-only permission on ActionTrail.",
        "v1",
        FIRST_RELEASE_MS
    ),
    system_policy!(
        "AliyunConfigFullAccess",
        "Permission for managing Cloud Config.",
        "v1",
        FIRST_RELEASE_MS
    ),
    system_policy!(
        "AliyunConfigReadOnlyAccess",
        "Read-only permission on Cloud Config.",
        "v1",
        FIRST_RELEASE_MS
    ),
    system_policy!(
        "AliyunKMSFullAccess",
        "Permission for managing Key Management Service (KMS).",
        "v1",
        FIRST_RELEASE_MS
    ),
    system_policy!(
        "AliyunKMSReadOnlyAccess",
        "Read-only permission on Key Management Service (KMS).",
        "v1",
        FIRST_RELEASE_MS
    ),
];

/// Every system policy, sorted by name.
pub fn system_policies() -> Vec<&'static SystemPolicy> {
    let mut all: Vec<&'static SystemPolicy> = CATALOGUE.iter().collect();
    all.sort_by(|a, b| a.name.cmp(b.name));
    all
}

/// A system policy by exact name.
pub fn system_policy(name: &str) -> Option<&'static SystemPolicy> {
    CATALOGUE.iter().find(|p| p.name == name)
}
