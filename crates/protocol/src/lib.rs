//! The Alibaba Cloud RPC protocol, as Cloudward speaks it. Pure: no I/O, no async, no clock
//! reads (the current time is always an argument).
//!
//! - [`parse_request`] turns an [`IncomingRequest`] into a [`SignedRequest`] for either
//!   signature scheme (V2 `HMAC-SHA1` parameters or V3 `ACS3-HMAC-SHA256` header), which the
//!   server then [verifies](SignedRequest::verify) and [clock-checks](SignedRequest::check_clock).
//! - [`sign_v2`] / [`sign_v3`] produce requests for the CLI client; they share the
//!   canonicalization code with the verifier.
//! - [`ProtocolError`] carries the Alibaba error code and HTTP status of every failure;
//!   [`ApiError`], [`render_error`] and [`render_success`] build the response envelope.
//! - [`classify_access_key_id`] and the `new_*` generators define credential formats.
//!
//! The error catalogue is `docs/protocol-errors.md`.

mod canonical;
mod credentials;
mod encoding;
mod envelope;
mod error;
mod request;
mod sign;
mod timestamp;

pub use canonical::{EMPTY_SHA256_HEX, V3_ALGORITHM, sha256_hex, v2_string_to_sign};
pub use credentials::{
    AccessKeyKind, Credentials, classify_access_key_id, new_access_key_id, new_access_key_secret,
    new_sts_access_key_id, new_sts_access_key_secret,
};
pub use encoding::{
    Limits, canonical_query, form_decode_component, merge_params, parse_form,
    percent_encode_rfc3986,
};
pub use envelope::{
    ApiError, CONTENT_TYPE_JSON, CONTENT_TYPE_XML, ErrorBody, parse_error_body,
    product_for_version, recommend_url, render_error, render_success,
};
pub use error::{Echo, ParamSource, ProtocolError};
pub use request::{
    AnonymousRequest, COMMON_PARAMS, IncomingRequest, MAX_NONCE_LEN, RequestHints, ResponseFormat,
    SignatureScheme, SignedRequest, parse_anonymous_request, parse_request, request_hints,
};
pub use sign::{V3Request, V3Signed, encode_params, sign_v2, sign_v2_params, sign_v3};
pub use timestamp::{format_timestamp, parse_timestamp};
