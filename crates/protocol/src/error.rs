//! Protocol errors and their Alibaba Cloud codes.
//!
//! Every error this crate returns is a [`ProtocolError`]. Each variant maps to exactly one
//! Alibaba error code and HTTP status, so the server can render it without a lookup table of
//! its own. The catalogue with examples is `docs/protocol-errors.md`; keep the two in step.

use std::fmt;

/// Longest piece of caller input (a parameter name, a header name) echoed in a message.
/// Echoing is useful for debugging a client, but an unbounded echo lets a caller make our
/// error bodies (and audit records) arbitrarily large.
const ECHO_LIMIT: usize = 64;

/// Caller-provided text, truncated for safe inclusion in an error message.
///
/// Only names and short values are ever wrapped in this: secrets, signatures and security
/// tokens are never put into an error (see [`ProtocolError::message`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Echo(String);

impl Echo {
    /// Wraps caller input, keeping at most 64 characters.
    pub fn new(s: &str) -> Self {
        let mut out: String = s.chars().take(ECHO_LIMIT).collect();
        if s.chars().nth(ECHO_LIMIT).is_some() {
            out.push_str("...");
        }
        Echo(out)
    }

    /// The (possibly truncated) text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Echo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Echo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Where in the request a malformed parameter was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamSource {
    /// The URL query string.
    Query,
    /// An `application/x-www-form-urlencoded` body.
    Body,
}

impl fmt::Display for ParamSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParamSource::Query => "query string",
            ParamSource::Body => "form body",
        })
    }
}

/// An error found while parsing, verifying or authenticating an RPC request.
///
/// `Display` is the same text as [`ProtocolError::message`], which is what clients see.
/// No variant carries an AccessKey secret; [`ProtocolError::SignatureDoesNotMatch`] carries
/// the server string-to-sign with any security token redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A percent-escape was not followed by two hex digits, a decoded name or value was not
    /// UTF-8, or a pair had an empty name.
    #[error("The {location} is malformed: {reason}.")]
    MalformedParameters {
        /// Query or body.
        location: ParamSource,
        /// What exactly was wrong (no caller data beyond a parameter name).
        reason: String,
    },
    /// The same parameter name was given twice (in the query, in the body, or across both).
    #[error("The parameter \"{name}\" is specified more than once.")]
    DuplicateParameter {
        /// The repeated name.
        name: Echo,
    },
    /// More parameters than [`crate::Limits::max_params`].
    #[error("The request has too many parameters (at most {limit} are accepted).")]
    TooManyParameters {
        /// The configured limit.
        limit: usize,
    },
    /// A parameter name or value longer than the configured limits.
    #[error("The parameter \"{name}\" is too long (at most {limit} bytes are accepted).")]
    ParameterTooLong {
        /// The parameter name.
        name: Echo,
        /// The configured limit.
        limit: usize,
    },
    /// The query string or body exceeds the configured size limits.
    #[error("The {location} is too large (at most {limit} bytes are accepted).")]
    RequestTooLarge {
        /// Query or body.
        location: ParamSource,
        /// The configured limit.
        limit: usize,
    },
    /// A mandatory parameter (or header) is absent or empty.
    #[error(
        "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
    )]
    MissingParameter {
        /// The parameter or header name.
        name: Echo,
    },
    /// A parameter is present but its value is not acceptable.
    #[error("The specified parameter \"{name}\" is not valid. {reason}")]
    InvalidParameter {
        /// The parameter name.
        name: Echo,
        /// Why it was rejected.
        reason: String,
    },
    /// `SignatureMethod` (V2) or the `Authorization` algorithm (V3) is not one we implement.
    #[error("The specified signature method \"{method}\" is not supported.")]
    UnsupportedSignatureMethod {
        /// The method the client asked for.
        method: Echo,
    },
    /// `SignatureVersion` is not `1.0`.
    #[error("The specified signature version \"{version}\" is not supported.")]
    UnsupportedSignatureVersion {
        /// The version the client asked for.
        version: Echo,
    },
    /// The signature material is present but structurally broken (garbage `Authorization`
    /// header, undecodable signature, a required header not signed, ...).
    #[error("The request signature does not conform to Aliyun standards. {reason}")]
    IncompleteSignature {
        /// What was wrong.
        reason: String,
    },
    /// The HMAC does not match. The message format is fixed: the classic Python SDK splits it
    /// at `:` and compares the tail with its own string-to-sign to tell a wrong secret apart.
    #[error(
        "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
    )]
    SignatureDoesNotMatch {
        /// The string-to-sign the server computed (security token redacted).
        string_to_sign: String,
    },
    /// V3: the `x-acs-content-sha256` header is not the SHA-256 of the body actually received.
    /// Reported with the `SignatureDoesNotMatch` code, because to the client it is one.
    #[error(
        "Specified signature is not matched with our calculation. The x-acs-content-sha256 header does not match the SHA-256 digest of the request body."
    )]
    ContentSha256Mismatch,
    /// `Timestamp` / `x-acs-date` is not `yyyy-MM-ddTHH:mm:ssZ` (optionally with fraction).
    #[error("Specified time stamp or date value is not well formatted.")]
    InvalidTimestampFormat,
    /// `Timestamp` / `x-acs-date` is outside the accepted clock window (either direction).
    #[error("Specified time stamp or date value is expired.")]
    TimestampExpired,
    /// The `SignatureNonce` was seen before within the replay window (detected by the server).
    #[error("Specified signature nonce was used already.")]
    SignatureNonceUsed,
    /// The AccessKeyId is unknown (detected by the server's key lookup).
    #[error("Specified access key is not found.")]
    AccessKeyNotFound,
    /// The AccessKeyId exists but is disabled.
    #[error("Specified access key is disabled.")]
    AccessKeyInactive,
    /// The STS token has expired.
    #[error("Specified SecurityToken is expired.")]
    SecurityTokenExpired,
    /// The STS token cannot be decoded, or is missing for an STS AccessKeyId.
    #[error("Specified SecurityToken is malformed.")]
    SecurityTokenMalformed,
    /// The STS token was issued for a different AccessKeyId.
    #[error("Specified SecurityToken mismatch with the AccessKey.")]
    SecurityTokenMismatch,
    /// No API with this `Action` exists for this `Version`.
    #[error("Specified api is not found, please check your url and method.")]
    ActionNotFound,
    /// No product speaks this `Version`.
    #[error("Specified parameter Version is not valid.")]
    InvalidVersion,
}

impl ProtocolError {
    /// The Alibaba Cloud error code (`Code` field of the error envelope).
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::MalformedParameters { .. }
            | ProtocolError::DuplicateParameter { .. }
            | ProtocolError::TooManyParameters { .. }
            | ProtocolError::ParameterTooLong { .. }
            | ProtocolError::RequestTooLarge { .. }
            | ProtocolError::InvalidParameter { .. } => "InvalidParameter",
            ProtocolError::MissingParameter { .. } => "MissingParameter",
            ProtocolError::UnsupportedSignatureMethod { .. } => "UnsupportedSignatureMethod",
            ProtocolError::UnsupportedSignatureVersion { .. } => "UnsupportedSignatureVersion",
            ProtocolError::IncompleteSignature { .. } => "IncompleteSignature",
            ProtocolError::SignatureDoesNotMatch { .. } | ProtocolError::ContentSha256Mismatch => {
                "SignatureDoesNotMatch"
            }
            ProtocolError::InvalidTimestampFormat => "InvalidTimeStamp.Format",
            ProtocolError::TimestampExpired => "InvalidTimeStamp.Expired",
            ProtocolError::SignatureNonceUsed => "SignatureNonceUsed",
            ProtocolError::AccessKeyNotFound => "InvalidAccessKeyId.NotFound",
            ProtocolError::AccessKeyInactive => "InvalidAccessKeyId.Inactive",
            ProtocolError::SecurityTokenExpired => "InvalidSecurityToken.Expired",
            ProtocolError::SecurityTokenMalformed => "InvalidSecurityToken.Malformed",
            ProtocolError::SecurityTokenMismatch => "InvalidSecurityToken.MismatchWithAccessKey",
            ProtocolError::ActionNotFound => "InvalidAction.NotFound",
            ProtocolError::InvalidVersion => "InvalidVersion",
        }
    }

    /// The HTTP status to answer with.
    pub fn http_status(&self) -> u16 {
        match self {
            ProtocolError::AccessKeyNotFound | ProtocolError::ActionNotFound => 404,
            ProtocolError::AccessKeyInactive => 403,
            _ => 400,
        }
    }

    /// The client-facing message (`Message` field). Never contains an AccessKey secret or a
    /// security token; it may contain the AccessKeyId (inside the echoed V2 string-to-sign),
    /// which is an identifier, not a secret.
    pub fn message(&self) -> String {
        self.to_string()
    }

    pub(crate) fn missing(name: &str) -> Self {
        ProtocolError::MissingParameter {
            name: Echo::new(name),
        }
    }

    pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> Self {
        ProtocolError::InvalidParameter {
            name: Echo::new(name),
            reason: reason.into(),
        }
    }

    pub(crate) fn incomplete(reason: impl Into<String>) -> Self {
        ProtocolError::IncompleteSignature {
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_truncates_long_input() {
        let long = "a".repeat(500);
        let e = Echo::new(&long);
        assert_eq!(e.as_str().len(), ECHO_LIMIT + 3);
        assert!(e.as_str().ends_with("..."));
        assert_eq!(Echo::new("short").as_str(), "short");
    }

    #[test]
    fn signature_mismatch_message_is_sdk_compatible() {
        let e = ProtocolError::SignatureDoesNotMatch {
            string_to_sign: "GET&%2F&A%3DB".into(),
        };
        assert_eq!(e.code(), "SignatureDoesNotMatch");
        assert_eq!(e.http_status(), 400);
        let m = e.message();
        let (_, tail) = m.split_once("server string to sign is:").unwrap();
        assert_eq!(tail, "GET&%2F&A%3DB");
    }

    #[test]
    fn statuses() {
        assert_eq!(ProtocolError::AccessKeyNotFound.http_status(), 404);
        assert_eq!(ProtocolError::ActionNotFound.http_status(), 404);
        assert_eq!(ProtocolError::AccessKeyInactive.http_status(), 403);
        assert_eq!(
            ProtocolError::TimestampExpired.code(),
            "InvalidTimeStamp.Expired"
        );
        assert_eq!(ProtocolError::missing("Action").code(), "MissingParameter");
    }
}
