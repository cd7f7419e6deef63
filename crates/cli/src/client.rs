//! Client side: named profiles and signed calls.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use cloudward_protocol::{Credentials, V3Request, sign_v2, sign_v3};
use serde::{Deserialize, Serialize};

/// One named profile, like the aliyun CLI's.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Profile {
    /// Base URL, e.g. `http://127.0.0.1:18080`.
    pub endpoint: String,
    /// AccessKeyId.
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: String,
    /// STS token for temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_token: Option<String>,
    /// Region id sent with calls.
    #[serde(default = "default_region")]
    pub region: String,
}

fn default_region() -> String {
    "cn-hangzhou".to_owned()
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The profile file (`~/.cloudward/config.json`, mode 0600).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ProfileFile {
    /// Profile used when none is named.
    pub current: String,
    /// Profiles by name.
    pub profiles: BTreeMap<String, Profile>,
}

/// Location of the profile file; `CLOUDWARD_CONFIG_FILE` overrides it.
pub fn profile_path() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("CLOUDWARD_CONFIG_FILE") {
        return Ok(PathBuf::from(path));
    }
    let home = std::env::var_os("HOME").context("HOME is not set; set CLOUDWARD_CONFIG_FILE")?;
    Ok(PathBuf::from(home).join(".cloudward").join("config.json"))
}

impl ProfileFile {
    /// The profile a command uses: `--profile`, else `CLOUDWARD_PROFILE`, else the file's
    /// current one, else `default`.
    pub fn chosen_name(&self, explicit: Option<&str>) -> String {
        explicit
            .map(str::to_owned)
            .or_else(|| std::env::var("CLOUDWARD_PROFILE").ok())
            .unwrap_or_else(|| {
                if self.current.is_empty() {
                    "default".to_owned()
                } else {
                    self.current.clone()
                }
            })
    }

    /// Reads the file, or an empty one if it does not exist.
    pub fn load() -> anyhow::Result<Self> {
        let path = profile_path()?;
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid profile file", path.display())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes the file with owner-only permissions (it holds secrets).
    pub fn save(&self) -> anyhow::Result<PathBuf> {
        let path = profile_path()?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(self)?;
        let tmp = path.with_extension("json.tmp");
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options
                .open(&tmp)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, &path)
            .with_context(|| format!("cannot replace {}", path.display()))?;
        Ok(path)
    }
}

/// Resolves the profile to use. A profile named with `--profile` is used as written;
/// otherwise environment variables win over the file's current profile, so CI can run
/// without one (`CLOUDWARD_ENDPOINT`, `CLOUDWARD_ACCESS_KEY_ID`,
/// `CLOUDWARD_ACCESS_KEY_SECRET`, `CLOUDWARD_SECURITY_TOKEN`; the `ALIBABA_CLOUD_*` names
/// of the official tools are read too).
pub fn resolve_profile(name: Option<&str>) -> anyhow::Result<Profile> {
    let env = |names: &[&str]| names.iter().find_map(|n| std::env::var(n).ok());
    let file = ProfileFile::load()?;
    let chosen = file.chosen_name(name);
    let mut profile = file.profiles.get(&chosen).cloned().unwrap_or_default();
    if name.is_some() && !file.profiles.contains_key(&chosen) {
        bail!(
            "no profile named {chosen:?}; create it with `cloudward configure --profile {chosen}`"
        );
    }
    // An explicitly named profile is taken as written: mixing its key with credentials
    // from the environment would sign with one identity's id and another's secret.
    let env = |names: &[&str]| if name.is_some() { None } else { env(names) };
    if let Some(v) = env(&["CLOUDWARD_ENDPOINT"]) {
        profile.endpoint = v;
    }
    if let Some(v) = env(&["CLOUDWARD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID"]) {
        profile.access_key_id = v;
    }
    if let Some(v) = env(&[
        "CLOUDWARD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    ]) {
        profile.access_key_secret = v;
    }
    if let Some(v) = env(&["CLOUDWARD_SECURITY_TOKEN", "ALIBABA_CLOUD_SECURITY_TOKEN"]) {
        profile.security_token = Some(v);
    }
    if profile.endpoint.is_empty() {
        profile.endpoint = "http://127.0.0.1:18080".to_owned();
    }
    if profile.region.is_empty() {
        profile.region = default_region();
    }
    if profile.access_key_id.is_empty() || profile.access_key_secret.is_empty() {
        bail!(
            "no credentials: run `cloudward configure` or set CLOUDWARD_ACCESS_KEY_ID and CLOUDWARD_ACCESS_KEY_SECRET"
        );
    }
    Ok(profile)
}

/// Signature scheme for outgoing calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Signature {
    /// ACS3-HMAC-SHA256 headers (what current SDKs send).
    V3,
    /// HMAC-SHA1 `Signature` parameter (classic RPC).
    V2,
}

/// The API version of each product Cloudward serves.
pub fn product_version(product: &str) -> Option<&'static str> {
    Some(match product.to_ascii_lowercase().as_str() {
        "sts" => "2015-04-01",
        "ram" => "2015-05-01",
        "ims" => "2019-08-15",
        "resourcedirectorymaster" | "rd" => "2022-04-19",
        "actiontrail" => "2020-07-06",
        "config" => "2020-09-07",
        "kms" => "2016-01-20",
        _ => return None,
    })
}

/// A prepared HTTP request.
pub struct SignedCall {
    /// Full URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// Signs one RPC call (POST, parameters in the query) with the profile's credentials.
pub fn sign_call(
    profile: &Profile,
    action: &str,
    version: &str,
    params: &BTreeMap<String, String>,
    signature: Signature,
) -> anyhow::Result<SignedCall> {
    let creds = Credentials {
        access_key_id: profile.access_key_id.clone(),
        access_key_secret: profile.access_key_secret.clone(),
        security_token: profile.security_token.clone(),
    };
    let base = profile.endpoint.trim_end_matches('/');
    let host = base
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(base)
        .to_owned();
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let now = time::OffsetDateTime::now_utc();
    match signature {
        Signature::V2 => {
            let mut all = params.clone();
            all.insert("Action".into(), action.into());
            all.insert("Version".into(), version.into());
            all.entry("RegionId".into())
                .or_insert_with(|| profile.region.clone());
            let query = sign_v2("POST", &all, &creds, &nonce, now);
            Ok(SignedCall {
                url: format!("{base}/?{query}"),
                headers: vec![("user-agent".into(), user_agent())],
                body: Vec::new(),
            })
        }
        Signature::V3 => {
            let extra = vec![
                ("accept".to_owned(), "application/json".to_owned()),
                ("user-agent".to_owned(), user_agent()),
            ];
            let signed = sign_v3(
                &V3Request {
                    method: "POST",
                    host: &host,
                    action,
                    version,
                    query: params,
                    body: b"",
                    content_type: None,
                    extra_headers: &extra,
                },
                &creds,
                &nonce,
                now,
            );
            let url = if signed.query.is_empty() {
                format!("{base}/")
            } else {
                format!("{base}/?{}", signed.query)
            };
            Ok(SignedCall {
                url,
                // reqwest sets `host` itself from the URL; it is signed with the same value.
                headers: signed
                    .headers
                    .into_iter()
                    .filter(|(k, _)| k != "host")
                    .collect(),
                body: Vec::new(),
            })
        }
    }
}

fn user_agent() -> String {
    format!("cloudward-cli/{}", env!("CARGO_PKG_VERSION"))
}
