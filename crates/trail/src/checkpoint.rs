//! Signed checkpoints: (origin, tree size, root hash, timestamp) signed with Ed25519,
//! written as a C2SP signed note (the format transparency logs use for checkpoints):
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root hash, base64>
//! timestamp <unix seconds>
//!
//! — <key name> <base64(key id ‖ Ed25519 signature)>
//! ```
//!
//! The signature covers the four body lines including their newlines. The key id is
//! the first four bytes of SHA-256(key name ‖ "\n" ‖ 0x01 ‖ public key), as in the
//! signed-note spec, so the same `<name>+<hex id>+<base64 key>` verifier strings work
//! with other note tooling. Parsing is strict: one canonical text per checkpoint.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::merkle::{EMPTY_ROOT, Hash, VerifyError, verify_consistency};

/// Longest note accepted by [`SignedCheckpoint::parse`].
pub const MAX_NOTE_LEN: usize = 16 * 1024;
/// Most signature lines accepted on one note.
pub const MAX_SIGNATURES: usize = 100;
/// Signature algorithm byte for Ed25519 in signed-note key ids and verifier keys.
const ALG_ED25519: u8 = 0x01;
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a checkpoint text was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Longer than [`MAX_NOTE_LEN`].
    #[error("note longer than {MAX_NOTE_LEN} bytes")]
    TooLong,
    /// Not UTF-8.
    #[error("note is not UTF-8")]
    NotUtf8,
    /// No blank line between body and signatures.
    #[error("no blank line between body and signatures")]
    NoSignatureBlock,
    /// The body does not have exactly four lines.
    #[error("checkpoint body must have exactly 4 lines")]
    BodyShape,
    /// The origin line is empty or holds control characters or edge spaces.
    #[error("invalid origin line")]
    Origin,
    /// The size line is not a canonical decimal u64.
    #[error("invalid tree size line")]
    Size,
    /// The root line is not canonical base64 of 32 bytes.
    #[error("invalid root hash line")]
    Root,
    /// The fourth line is not `timestamp <canonical decimal u64>`.
    #[error("invalid timestamp line")]
    Timestamp,
    /// No signature lines.
    #[error("note has no signatures")]
    NoSignatures,
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// A signature line is malformed (1-based line number within the signature block).
    #[error("malformed signature line {0}")]
    SignatureLine(usize),
}

/// Checkpoint signing and verification failures.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Malformed note.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A key name that cannot appear in a note (empty, whitespace or `+`).
    #[error("invalid key name {0:?}")]
    KeyName(String),
    /// An origin that cannot appear in a note.
    #[error("invalid origin {0:?}")]
    Origin(String),
    /// None of the signatures is by a key in the keyring.
    #[error("no signature by a trusted key")]
    NoTrustedSignature,
    /// A signature by a trusted key does not verify.
    #[error("bad signature by key {name} ({key_id:08x})")]
    BadSignature {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// The checkpoint's timestamp is outside the signing key's validity window.
    #[error("key {name} ({key_id:08x}) was not valid at timestamp {timestamp}")]
    KeyNotValid {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
        /// Checkpoint timestamp.
        timestamp: u64,
    },
    /// The keyring already holds a key with this name and id.
    #[error("duplicate key {name} ({key_id:08x})")]
    DuplicateKey {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// A public key that is not a valid Ed25519 point, or a malformed key record.
    #[error("invalid public key: {0}")]
    PublicKey(String),
    /// keys.json could not be read or written.
    #[error("keyring JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Two checkpoints of different logs.
    #[error("checkpoints are for different origins")]
    OriginMismatch,
    /// The consistency proof between two checkpoints failed.
    #[error("checkpoints are not consistent: {0}")]
    Inconsistent(#[from] VerifyError),
}

/// The signed statement: "log `origin` had `size` entries with root `root` at `timestamp`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Log identity, e.g. `cloudward.example.com/audit/1234567890`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root of the first `size` leaves.
    pub root: Hash,
    /// Unix seconds when the checkpoint was made (from the caller; this crate reads no clock).
    pub timestamp: u64,
}

impl Checkpoint {
    /// The signed body text (four lines, each ending in `\n`).
    pub fn body(&self) -> Result<String, CheckpointError> {
        if !valid_origin(&self.origin) {
            return Err(CheckpointError::Origin(self.origin.clone()));
        }
        Ok(format!(
            "{}\n{}\n{}\ntimestamp {}\n",
            self.origin,
            self.size,
            B64.encode(self.root),
            self.timestamp
        ))
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key id (see [`key_id`]).
    pub key_id: u32,
    /// Signature bytes (64 for Ed25519; other lengths are kept but never verify).
    pub signature: Vec<u8>,
}

/// A checkpoint with its signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The statement.
    pub checkpoint: Checkpoint,
    /// Signatures, in note order.
    pub signatures: Vec<NoteSignature>,
}

impl SignedCheckpoint {
    /// The note text.
    pub fn to_text(&self) -> Result<String, CheckpointError> {
        let mut out = self.checkpoint.body()?;
        out.push('\n');
        for sig in &self.signatures {
            if !valid_key_name(&sig.name) {
                return Err(CheckpointError::KeyName(sig.name.clone()));
            }
            let mut blob = Vec::with_capacity(4 + sig.signature.len());
            blob.extend_from_slice(&sig.key_id.to_be_bytes());
            blob.extend_from_slice(&sig.signature);
            out.push_str(SIG_PREFIX);
            out.push_str(&sig.name);
            out.push(' ');
            out.push_str(&B64.encode(blob));
            out.push('\n');
        }
        Ok(out)
    }

    /// Parses a note strictly: any text accepted here is exactly what
    /// [`SignedCheckpoint::to_text`] writes for the result. Signatures are not checked
    /// (see [`Keyring::verify`]).
    pub fn parse(text: &[u8]) -> Result<Self, ParseError> {
        if text.len() > MAX_NOTE_LEN {
            return Err(ParseError::TooLong);
        }
        let text = std::str::from_utf8(text).map_err(|_| ParseError::NotUtf8)?;
        let split = text.find("\n\n").ok_or(ParseError::NoSignatureBlock)?;
        let (body, sigs) = (text.get(..=split), text.get(split + 2..));
        let (Some(body), Some(sigs)) = (body, sigs) else {
            return Err(ParseError::NoSignatureBlock);
        };
        let checkpoint = parse_body(body)?;
        let signatures = parse_signatures(sigs)?;
        Ok(Self {
            checkpoint,
            signatures,
        })
    }
}

fn parse_body(body: &str) -> Result<Checkpoint, ParseError> {
    // `body` ends with '\n', so the split leaves one empty trailing piece.
    let mut lines = body.split('\n');
    let (Some(origin), Some(size), Some(root), Some(ts), Some(""), None) = (
        lines.next(),
        lines.next(),
        lines.next(),
        lines.next(),
        lines.next(),
        lines.next(),
    ) else {
        return Err(ParseError::BodyShape);
    };
    if !valid_origin(origin) {
        return Err(ParseError::Origin);
    }
    let size = parse_decimal(size).ok_or(ParseError::Size)?;
    let root = parse_root(root).ok_or(ParseError::Root)?;
    let timestamp = ts
        .strip_prefix("timestamp ")
        .and_then(parse_decimal)
        .ok_or(ParseError::Timestamp)?;
    Ok(Checkpoint {
        origin: origin.to_owned(),
        size,
        root,
        timestamp,
    })
}

fn parse_signatures(block: &str) -> Result<Vec<NoteSignature>, ParseError> {
    let Some(block) = block.strip_suffix('\n') else {
        return Err(if block.is_empty() {
            ParseError::NoSignatures
        } else {
            ParseError::SignatureLine(block.split('\n').count())
        });
    };
    let mut out = Vec::new();
    for (i, line) in block.split('\n').enumerate() {
        if out.len() == MAX_SIGNATURES {
            return Err(ParseError::TooManySignatures);
        }
        out.push(parse_signature_line(line).ok_or(ParseError::SignatureLine(i + 1))?);
    }
    if out.is_empty() {
        return Err(ParseError::NoSignatures);
    }
    Ok(out)
}

fn parse_signature_line(line: &str) -> Option<NoteSignature> {
    let rest = line.strip_prefix(SIG_PREFIX)?;
    let (name, b64) = rest.split_once(' ')?;
    if !valid_key_name(name) {
        return None;
    }
    let blob = decode_canonical_b64(b64)?;
    let (id, sig) = blob.split_first_chunk::<4>()?;
    if sig.is_empty() {
        return None;
    }
    Some(NoteSignature {
        name: name.to_owned(),
        key_id: u32::from_be_bytes(*id),
        signature: sig.to_vec(),
    })
}

/// Decimal without sign, spaces or leading zeros ("0" itself allowed), fitting u64.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

fn parse_root(s: &str) -> Option<Hash> {
    decode_canonical_b64(s)?.try_into().ok()
}

/// Standard padded base64 that re-encodes to the same text (no stray bits, no
/// whitespace), so one value has one spelling.
fn decode_canonical_b64(s: &str) -> Option<Vec<u8>> {
    let bytes = B64.decode(s).ok()?;
    (B64.encode(&bytes) == s).then_some(bytes)
}

fn valid_origin(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.chars().any(char::is_control)
        // A body line must not be mistaken for a signature line.
        && !s.starts_with(SIG_PREFIX)
}

fn valid_key_name(s: &str) -> bool {
    !s.is_empty() && !s.contains('+') && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Signed-note key id: first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
#[must_use]
pub fn key_id(name: &str, public: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(public.as_bytes());
    let digest: [u8; 32] = h.finalize().into();
    u32::from_be_bytes(digest.first_chunk::<4>().copied().unwrap_or_default())
}

/// Holds the private checkpoint key. The server keeps one of these; verifiers never do.
pub struct CheckpointSigner {
    name: String,
    key: SigningKey,
    key_id: u32,
}

impl std::fmt::Debug for CheckpointSigner {
    // Never print the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl CheckpointSigner {
    /// A signer for key `name` (conventionally the log origin) with `key`.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, CheckpointError> {
        if !valid_key_name(name) {
            return Err(CheckpointError::KeyName(name.to_owned()));
        }
        let key_id = key_id(name, &key.verifying_key());
        Ok(Self {
            name: name.to_owned(),
            key,
            key_id,
        })
    }

    /// Key id of this signer.
    #[must_use]
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Key name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half, valid from `not_before` (unix seconds) with no end yet.
    #[must_use]
    pub fn trusted_key(&self, not_before: Option<u64>) -> TrustedKey {
        TrustedKey {
            name: self.name.clone(),
            key_id: self.key_id,
            public: self.key.verifying_key(),
            not_before,
            not_after: None,
        }
    }

    /// Signs a checkpoint.
    pub fn sign(&self, checkpoint: Checkpoint) -> Result<SignedCheckpoint, CheckpointError> {
        let mut signed = SignedCheckpoint {
            checkpoint,
            signatures: Vec::new(),
        };
        self.cosign(&mut signed)?;
        Ok(signed)
    }

    /// Adds this key's signature to an already signed checkpoint (e.g. during a key
    /// rotation overlap, or a witness co-signing).
    pub fn cosign(&self, signed: &mut SignedCheckpoint) -> Result<(), CheckpointError> {
        let body = signed.checkpoint.body()?;
        let sig: Signature = self.key.sign(body.as_bytes());
        signed.signatures.push(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: sig.to_bytes().to_vec(),
        });
        Ok(())
    }
}

/// A public key trusted to sign checkpoints during `[not_before, not_after)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// Key name as it appears on signature lines.
    pub name: String,
    /// Key id (derived from name and key; checked on load).
    pub key_id: u32,
    /// Ed25519 public key.
    pub public: VerifyingKey,
    /// First valid checkpoint timestamp (inclusive), if bounded.
    pub not_before: Option<u64>,
    /// End of validity (exclusive), set when the key is retired.
    pub not_after: Option<u64>,
}

impl TrustedKey {
    /// From a name and public key.
    pub fn new(name: &str, public: VerifyingKey) -> Result<Self, CheckpointError> {
        if !valid_key_name(name) {
            return Err(CheckpointError::KeyName(name.to_owned()));
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, &public),
            public,
            not_before: None,
            not_after: None,
        })
    }

    /// Signed-note verifier key text: `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
    #[must_use]
    pub fn vkey(&self) -> String {
        let mut blob = vec![ALG_ED25519];
        blob.extend_from_slice(self.public.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, B64.encode(blob))
    }

    /// Parses a verifier key text (see [`TrustedKey::vkey`]), checking the key id.
    pub fn from_vkey(text: &str) -> Result<Self, CheckpointError> {
        let bad = || CheckpointError::PublicKey(format!("malformed verifier key {text:?}"));
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let id = u32::from_str_radix(id_hex, 16).map_err(|_| bad())?;
        if id_hex.len() != 8 {
            return Err(bad());
        }
        let blob = decode_canonical_b64(b64).ok_or_else(bad)?;
        let Some((&ALG_ED25519, key)) = blob.split_first() else {
            return Err(bad());
        };
        let key: [u8; 32] = key.try_into().map_err(|_| bad())?;
        let public = VerifyingKey::from_bytes(&key)
            .map_err(|e| CheckpointError::PublicKey(e.to_string()))?;
        let trusted = Self::new(name, public)?;
        if trusted.key_id != id {
            return Err(bad());
        }
        Ok(trusted)
    }

    fn valid_at(&self, timestamp: u64) -> bool {
        self.not_before.is_none_or(|nb| timestamp >= nb)
            && self.not_after.is_none_or(|na| timestamp < na)
    }
}

/// The public keys a verifier trusts, old ones included so that checkpoints signed
/// before a rotation keep verifying.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keyring {
    keys: Vec<TrustedKey>,
}

impl Keyring {
    /// An empty keyring (trusts nothing).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; a second key with the same name and id is refused.
    pub fn add(&mut self, key: TrustedKey) -> Result<(), CheckpointError> {
        if self.find(&key.name, key.key_id).is_some() {
            return Err(CheckpointError::DuplicateKey {
                name: key.name,
                key_id: key.key_id,
            });
        }
        self.keys.push(key);
        Ok(())
    }

    /// Retires a key: checkpoints stamped at or after `at` no longer verify with it,
    /// earlier ones still do. Returns false if the key is unknown.
    pub fn retire(&mut self, name: &str, key_id: u32, at: u64) -> bool {
        match self
            .keys
            .iter_mut()
            .find(|k| k.name == name && k.key_id == key_id)
        {
            Some(k) => {
                k.not_after = Some(at);
                true
            }
            None => false,
        }
    }

    /// Forgets a key entirely; checkpoints signed only by it stop verifying.
    pub fn remove(&mut self, name: &str, key_id: u32) -> bool {
        let before = self.keys.len();
        self.keys
            .retain(|k| !(k.name == name && k.key_id == key_id));
        self.keys.len() != before
    }

    /// The keys.
    #[must_use]
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    fn find(&self, name: &str, key_id: u32) -> Option<&TrustedKey> {
        self.keys
            .iter()
            .find(|k| k.key_id == key_id && k.name == name)
    }

    /// Verifies a checkpoint's signatures. Signatures by unknown keys are ignored (as
    /// in signed notes: others may co-sign); a bad signature by a known key, or a known
    /// key used outside its validity window, rejects the whole checkpoint. At least one
    /// signature must verify. Returns the key that verified first.
    pub fn verify(&self, signed: &SignedCheckpoint) -> Result<&TrustedKey, CheckpointError> {
        let body = signed.checkpoint.body()?;
        let mut good = None;
        for sig in &signed.signatures {
            let Some(key) = self.find(&sig.name, sig.key_id) else {
                continue;
            };
            let bad = || CheckpointError::BadSignature {
                name: sig.name.clone(),
                key_id: sig.key_id,
            };
            let bytes: [u8; 64] = sig.signature.as_slice().try_into().map_err(|_| bad())?;
            key.public
                .verify_strict(body.as_bytes(), &Signature::from_bytes(&bytes))
                .map_err(|_| bad())?;
            if !key.valid_at(signed.checkpoint.timestamp) {
                return Err(CheckpointError::KeyNotValid {
                    name: key.name.clone(),
                    key_id: key.key_id,
                    timestamp: signed.checkpoint.timestamp,
                });
            }
            good.get_or_insert(key);
        }
        good.ok_or(CheckpointError::NoTrustedSignature)
    }

    /// Parses `keys.json` (see docs/audit.md).
    pub fn from_json(bytes: &[u8]) -> Result<Self, CheckpointError> {
        let file: KeysFile = serde_json::from_slice(bytes)?;
        let mut ring = Self::new();
        for rec in file.keys {
            if rec.algorithm != "ed25519" {
                return Err(CheckpointError::PublicKey(format!(
                    "key {} uses unsupported algorithm {:?}",
                    rec.name, rec.algorithm
                )));
            }
            let mut key = TrustedKey::from_vkey(&rec.vkey)?;
            if key.name != rec.name || format!("{:08x}", key.key_id) != rec.key_id {
                return Err(CheckpointError::PublicKey(format!(
                    "key record {} does not match its vkey",
                    rec.name
                )));
            }
            key.not_before = rec.not_before;
            key.not_after = rec.not_after;
            ring.add(key)?;
        }
        Ok(ring)
    }

    /// Writes `keys.json`.
    pub fn to_json(&self) -> Result<Vec<u8>, CheckpointError> {
        let file = KeysFile {
            keys: self
                .keys
                .iter()
                .map(|k| KeyRecord {
                    name: k.name.clone(),
                    key_id: format!("{:08x}", k.key_id),
                    algorithm: "ed25519".to_owned(),
                    vkey: k.vkey(),
                    not_before: k.not_before,
                    not_after: k.not_after,
                })
                .collect(),
        };
        let mut out = serde_json::to_vec_pretty(&file)?;
        out.push(b'\n');
        Ok(out)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    keys: Vec<KeyRecord>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct KeyRecord {
    name: String,
    key_id: String,
    algorithm: String,
    vkey: String,
    #[serde(default)]
    not_before: Option<u64>,
    #[serde(default)]
    not_after: Option<u64>,
}

/// Checks that `new` extends `old` (same origin, `proof` is a valid consistency
/// proof between their roots). Signatures are checked separately with
/// [`Keyring::verify`]. From an empty `old` tree nothing needs proving beyond its root
/// being the empty-tree hash.
pub fn verify_checkpoint_consistency(
    old: &Checkpoint,
    new: &Checkpoint,
    proof: &[Hash],
) -> Result<(), CheckpointError> {
    if old.origin != new.origin {
        return Err(CheckpointError::OriginMismatch);
    }
    if old.size == 0 && new.size > 0 {
        if !proof.is_empty() {
            return Err(VerifyError::ProofNotEmpty.into());
        }
        if old.root != EMPTY_ROOT {
            return Err(VerifyError::OldRootMismatch.into());
        }
        return Ok(());
    }
    if old.size == 0 {
        // Both empty.
        return if old.root == EMPTY_ROOT && new.root == EMPTY_ROOT && proof.is_empty() {
            Ok(())
        } else {
            Err(VerifyError::RootMismatch.into())
        };
    }
    verify_consistency(old.size, new.size, proof, &old.root, &new.root)?;
    Ok(())
}
