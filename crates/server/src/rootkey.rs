//! Loading (or creating) the root key that encrypts secrets at rest.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::ServeError;
use crate::config::RootKeySource;

/// File name of the root key inside the data directory.
pub const ROOT_KEY_FILE: &str = "root.key";

/// Returns the 32-byte root key. A key file holds base64 of 32 bytes (one line).
pub fn load_root_key(
    source: &RootKeySource,
    data_dir: &Path,
) -> Result<Zeroizing<[u8; 32]>, ServeError> {
    match source {
        RootKeySource::Inline(text) => decode(text, "CLOUDWARD_ROOT_KEY"),
        RootKeySource::File(path) => {
            let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|err| {
                ServeError::Config(format!(
                    "cannot read root key file {}: {err}",
                    path.display()
                ))
            })?);
            check_permissions(path)?;
            decode(&text, &path.display().to_string())
        }
        RootKeySource::DataDir => {
            let path = data_dir.join(ROOT_KEY_FILE);
            if path.exists() {
                let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(|err| {
                    ServeError::Config(format!("cannot read {}: {err}", path.display()))
                })?);
                check_permissions(&path)?;
                decode(&text, &path.display().to_string())
            } else {
                let key = cloudward_service::random_bytes::<32>()
                    .map_err(|err| ServeError::Config(err.to_string()))?;
                write_new_key(&path, &key)?;
                tracing::info!(path = %path.display(), "created a new root key (mode 0600); back it up: without it stored secrets cannot be decrypted");
                Ok(Zeroizing::new(key))
            }
        }
    }
}

fn decode(text: &str, origin: &str) -> Result<Zeroizing<[u8; 32]>, ServeError> {
    let bytes =
        Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| {
            ServeError::Config(format!("root key from {origin} is not valid base64"))
        })?);
    let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        ServeError::Config(format!(
            "root key from {origin} must decode to exactly 32 bytes"
        ))
    })?;
    Ok(Zeroizing::new(key))
}

#[cfg(unix)]
fn write_new_key(path: &Path, key: &[u8; 32]) -> Result<(), ServeError> {
    use std::os::unix::fs::OpenOptionsExt;
    let encoded = Zeroizing::new(STANDARD.encode(key));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|err| ServeError::Config(format!("cannot create {}: {err}", path.display())))?;
    file.write_all(encoded.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|err| ServeError::Config(format!("cannot write {}: {err}", path.display())))
}

#[cfg(not(unix))]
fn write_new_key(path: &Path, key: &[u8; 32]) -> Result<(), ServeError> {
    let encoded = Zeroizing::new(STANDARD.encode(key));
    std::fs::write(path, encoded.as_bytes())
        .map_err(|err| ServeError::Config(format!("cannot write {}: {err}", path.display())))
}

/// Refuses a key file that other users can read: a misconfiguration is an error at
/// start-up, not a warning in a log.
#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), ServeError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|err| ServeError::Config(format!("cannot stat {}: {err}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(ServeError::Config(format!(
            "root key file {} is accessible by group or others (mode {:o}); run: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), ServeError> {
    Ok(())
}
