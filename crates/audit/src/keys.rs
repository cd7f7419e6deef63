//! The checkpoint signing key and the public keyring, kept in `<data dir>/audit-keys/`.
//!
//! * `signing.key` — the current Ed25519 private key (hex, mode 0600; refused at start-up
//!   if group or others can read it).
//! * `keys.json` — every public key that ever signed checkpoints, with its validity
//!   window (`cloudward_trail::Keyring` format). Rotation retires the old key at the
//!   rotation time and keeps it, so old checkpoints keep verifying.
//!
//! Rotation writes the new private key first (atomically, by rename) and then the
//! keyring. If the process dies in between, the next start finds a signing key that is
//! not in the keyring and completes the rotation (adds it, retires the others).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use cloudward_trail::{CheckpointSigner, Keyring};
use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use crate::AuditError;

/// Key name on checkpoint signature lines.
pub const KEY_NAME: &str = "cloudward-audit";
/// Directory inside the data directory.
pub const KEYS_DIR: &str = "audit-keys";
const SIGNING_FILE: &str = "signing.key";
const KEYRING_FILE: &str = "keys.json";

/// The signing key and the keyring.
#[derive(Debug)]
pub struct KeyStore {
    dir: PathBuf,
    signer: CheckpointSigner,
    keyring: Keyring,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> AuditError + '_ {
    move |e| AuditError::Keys(format!("{}: {e}", path.display()))
}

fn new_signing_key() -> Result<SigningKey, AuditError> {
    let bytes = cloudward_service::random_bytes::<32>()
        .map_err(|e| AuditError::Keys(format!("cannot generate a signing key: {e}")))?;
    Ok(SigningKey::from_bytes(&bytes))
}

fn write_private(path: &Path, key: &SigningKey) -> Result<(), AuditError> {
    let tmp = path.with_extension("key.tmp");
    let _ = fs::remove_file(&tmp);
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(&tmp).map_err(io_err(&tmp))?;
    let text = Zeroizing::new(format!("{}\n", hex::encode(key.to_bytes())).into_bytes());
    file.write_all(&text).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))?;
    Ok(())
}

fn read_private(path: &Path) -> Result<SigningKey, AuditError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(io_err(path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(AuditError::Keys(format!(
                "{} is readable by group or others (mode {:o}); chmod 600 it",
                path.display(),
                mode & 0o777
            )));
        }
    }
    let text = Zeroizing::new(fs::read(path).map_err(io_err(path))?);
    let trimmed = std::str::from_utf8(&text)
        .map_err(|_| AuditError::Keys(format!("{} is not hex text", path.display())))?
        .trim();
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(trimmed, &mut bytes)
        .map_err(|_| AuditError::Keys(format!("{} does not hold 32 hex bytes", path.display())))?;
    let key = SigningKey::from_bytes(&bytes);
    bytes.fill(0);
    Ok(key)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AuditError> {
    let tmp = path.with_extension("json.tmp");
    {
        let mut file = fs::File::create(&tmp).map_err(io_err(&tmp))?;
        file.write_all(bytes).map_err(io_err(&tmp))?;
        file.sync_all().map_err(io_err(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io_err(path))
}

impl KeyStore {
    /// Opens the key directory inside `data_dir`, creating a first key (valid from
    /// `now`, unix seconds) if there is none.
    pub fn open(data_dir: &Path, now: u64) -> Result<Self, AuditError> {
        let dir = data_dir.join(KEYS_DIR);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(io_err(&dir))?;
        }
        let key_path = dir.join(SIGNING_FILE);
        let ring_path = dir.join(KEYRING_FILE);
        let key = if key_path.exists() {
            read_private(&key_path)?
        } else {
            let key = new_signing_key()?;
            write_private(&key_path, &key)?;
            key
        };
        let keyring = if ring_path.exists() {
            Keyring::from_json(&fs::read(&ring_path).map_err(io_err(&ring_path))?)
                .map_err(|e| AuditError::Keys(format!("{}: {e}", ring_path.display())))?
        } else {
            Keyring::new()
        };
        let signer = CheckpointSigner::new(KEY_NAME, key)?;
        let mut store = Self {
            dir,
            signer,
            keyring,
        };
        store.adopt_signer(now)?;
        Ok(store)
    }

    /// Makes sure the current signing key is in the keyring (valid from `now`), retiring
    /// every other still-open key at `now`. Writes `keys.json` when it changed.
    fn adopt_signer(&mut self, now: u64) -> Result<(), AuditError> {
        let id = self.signer.key_id();
        let known = self
            .keyring
            .keys()
            .iter()
            .any(|k| k.name == KEY_NAME && k.key_id == id);
        if known {
            return Ok(());
        }
        let open: Vec<(String, u32)> = self
            .keyring
            .keys()
            .iter()
            .filter(|k| k.not_after.is_none())
            .map(|k| (k.name.clone(), k.key_id))
            .collect();
        for (name, key_id) in open {
            self.keyring.retire(&name, key_id, now);
        }
        self.keyring.add(self.signer.trusted_key(Some(now)))?;
        let path = self.dir.join(KEYRING_FILE);
        write_atomic(&path, &self.keyring.to_json()?)
    }

    /// Rotates: a new signing key valid from `now`; the old public key is retired at
    /// `now` and kept, its private key overwritten.
    pub fn rotate(&mut self, now: u64) -> Result<(), AuditError> {
        let key = new_signing_key()?;
        write_private(&self.dir.join(SIGNING_FILE), &key)?;
        self.signer = CheckpointSigner::new(KEY_NAME, key)?;
        self.adopt_signer(now)
    }

    /// The current signer.
    #[must_use]
    pub fn signer(&self) -> &CheckpointSigner {
        &self.signer
    }

    /// Every public key, retired ones included.
    #[must_use]
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }
}

/// Reads only the public keyring of a data directory (for offline export).
pub fn read_keyring(data_dir: &Path) -> Result<Keyring, AuditError> {
    let path = data_dir.join(KEYS_DIR).join(KEYRING_FILE);
    let bytes = fs::read(&path).map_err(io_err(&path))?;
    Keyring::from_json(&bytes).map_err(|e| AuditError::Keys(format!("{}: {e}", path.display())))
}
