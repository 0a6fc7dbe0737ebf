//! The body of `POST /v1/consent` (what a valid consent is, field by field) and receipts.

use super::{PURPOSES, REQUIRED_PURPOSES};
use serde_json::{Map, Value};

/// Longest policy version accepted.
pub const MAX_POLICY_VERSION: usize = 32;
/// What a policy version looks like, for messages.
pub const POLICY_VERSION_RULE: &str = "a date such as 2026-11-01 or a short slug: 1 to 32 lowercase letters, digits, dots and hyphens, \
     starting with a letter or digit";

/// Whether `v` has the shape of a policy version: `[a-z0-9][a-z0-9.-]{0,31}` (a date
/// `YYYY-MM-DD` is one). Nothing else can be stored, so nothing else can be published.
pub fn is_policy_version(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_POLICY_VERSION
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
}

/// A receipt is 32 lowercase hex digits (128 bits).
pub fn is_receipt(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// 128 random bits from the operating system, as 32 lowercase hex digits.
pub fn new_receipt() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(crate::html::hex(&bytes))
}

/// Whether a `Content-Type` names JSON (parameters such as `charset` aside).
pub(super) fn is_json_type(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let essence = ct.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// A validated consent body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The policy version the visitor saw (one of the shop's, checked by the handler).
    pub policy_version: String,
    /// Cohort's own personalization (a chosen cohort kept on the device).
    pub personalization: bool,
    /// Third parties with purpose `functional`.
    pub functional: bool,
    /// Third parties with purpose `analytics`.
    pub analytics: bool,
    /// Third parties with purpose `marketing`.
    pub marketing: bool,
    /// The sha256 of exactly what the visitor was shown, 64 lower-case hex digits.
    pub ui: String,
}

fn field_name(name: &str) -> String {
    if name.len() <= 40 && name.chars().all(|c| c.is_ascii_graphic()) {
        format!("`{name}`")
    } else {
        "a field".to_string()
    }
}

/// Why a body is refused: an error code and a sentence naming the field.
pub type Invalid = (&'static str, String);

/// Validates a POST body; the error names the offending field.
pub fn parse_consent(body: &[u8]) -> Result<Consent, Invalid> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ("malformed_json", format!("The body is not valid JSON: {e}.")))?;
    let Value::Object(top) = value else {
        return Err(("invalid_body", "The body must be a JSON object.".to_string()));
    };
    for key in top.keys() {
        if !["policy_version", "purposes", "ui"].contains(&key.as_str()) {
            return Err((
                "unknown_field",
                format!("Unknown field {}; expected policy_version, purposes and ui.", field_name(key)),
            ));
        }
    }
    let policy_version = match top.get("policy_version") {
        None => return Err(missing("policy_version")),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(invalid("policy_version", "must be a string")),
    };
    if !is_policy_version(&policy_version) {
        return Err(invalid("policy_version", &format!("must be {POLICY_VERSION_RULE}")));
    }
    let purposes = match top.get("purposes") {
        None => return Err(missing("purposes")),
        Some(Value::Object(p)) => p,
        Some(_) => return Err(invalid("purposes", "must be an object of booleans")),
    };
    let flags = parse_purposes(purposes)?;
    let ui = match top.get("ui") {
        None => return Err(missing("ui")),
        Some(Value::String(s)) => s,
        Some(_) => return Err(invalid("ui", "must be a string")),
    };
    if ui.len() != 64 || !ui.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid("ui", "must be a sha256 as 64 hex digits"));
    }
    let [personalization, functional, analytics, marketing] = flags;
    Ok(Consent { policy_version, personalization, functional, analytics, marketing, ui: ui.to_ascii_lowercase() })
}

fn parse_purposes(purposes: &Map<String, Value>) -> Result<[bool; 4], Invalid> {
    for key in purposes.keys() {
        if !PURPOSES.contains(&key.as_str()) {
            return Err((
                "unknown_purpose",
                format!(
                    "Unknown purpose {} in `purposes`; known: personalization, functional, analytics, marketing.",
                    field_name(key)
                ),
            ));
        }
    }
    let mut flags = [false; 4];
    for (i, name) in PURPOSES.iter().enumerate() {
        let path = format!("purposes.{name}");
        flags[i] = match purposes.get(*name) {
            None if REQUIRED_PURPOSES.contains(name) => return Err(missing(&path)),
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid(&path, "must be true or false")),
        };
    }
    Ok(flags)
}

fn missing(field: &str) -> Invalid {
    ("missing_field", format!("The field `{field}` is required."))
}

fn invalid(field: &str, why: &str) -> Invalid {
    ("invalid_field", format!("The field `{field}` {why}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_versions_have_one_shape() {
        for ok in ["2026-11-01", "1", "v2", "2026.1-beta", &"a".repeat(32)] {
            assert!(is_policy_version(ok), "{ok}");
        }
        for bad in ["", "V2", "-x", ".x", "a b", "me@mail.example", "v\u{202e}1", "v1\u{200b}", &"a".repeat(33)] {
            assert!(!is_policy_version(bad), "{bad:?}");
        }
    }

    #[test]
    fn validation_names_the_field() {
        let cases: &[(&str, &str)] = &[
            ("{", "malformed_json"),
            ("[]", "invalid_body"),
            (r#"{"x":1}"#, "`x`"),
            (r#"{"purposes":{},"ui":"a"}"#, "policy_version"),
            (r#"{"policy_version":"","purposes":{},"ui":"a"}"#, "policy_version"),
            (r#"{"policy_version":"me@mail.example","purposes":{},"ui":"a"}"#, "policy_version"),
            (r#"{"policy_version":"v\u202e1","purposes":{},"ui":"a"}"#, "policy_version"),
            (r#"{"policy_version":"v1\u200b","purposes":{},"ui":"a"}"#, "policy_version"),
            (r#"{"policy_version":"V1","purposes":{},"ui":"a"}"#, "policy_version"),
            (r#"{"policy_version":"-1","purposes":{},"ui":"a"}"#, "policy_version"),
            (r#"{"policy_version":"v","purposes":{"tracking":true},"ui":"a"}"#, "tracking"),
            (
                r#"{"policy_version":"v","purposes":{"personalization":1,"analytics":true},"ui":"a"}"#,
                "purposes.personalization",
            ),
            (r#"{"policy_version":"v","purposes":{"personalization":true,"analytics":true},"ui":"a"}"#, "`ui`"),
        ];
        for (body, needle) in cases {
            let err = parse_consent(body.as_bytes()).unwrap_err();
            assert!(err.0.contains(needle) || err.1.contains(needle), "{body}: {err:?}");
        }
    }
}
