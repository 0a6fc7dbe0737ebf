//! `POST /v1/csp-report`: Content-Security-Policy violation reports, reduced to counts.
//!
//! Browsers send two formats: the older `report-uri` one (`application/csp-report`, an object
//! `{"csp-report": {...}}` with kebab-case fields) and the Reporting API one used by
//! `report-to` (`application/reports+json`, an array of `{"type": "csp-violation", "body":
//! {...}}` with camelCase fields, possibly batched with reports of other types, which are
//! ignored). Of each violation only two things are kept: the effective directive (one of a
//! fixed list, so never a free string) and the blocked origin, reduced to `scheme://host[:port]`
//! or one of the keywords `inline`, `eval`, `wasm-eval`, `data`, `blob`, `trusted-types-policy`,
//! `trusted-types-sink` (anything else is `other`). The page URL, the path and query of the
//! blocked URL, the source file, line, sample, policy, user agent and every other field are
//! dropped before anything is stored; the store adds one to a counter per day, directive and
//! blocked origin.

use serde_json::{Map, Value};

/// Largest accepted report body: the Reporting API batches several reports, each carrying the
/// page's whole policy, so 4 KiB (the consent limit) would refuse real reports.
pub const MAX_REPORT_BODY: usize = 32 * 1024;
/// Most violations counted from one body; a body with more is refused (400).
pub const MAX_REPORTS_PER_BODY: usize = 100;
/// Days violation counts are kept (the day of the report plus this many).
pub const VIOLATION_RETENTION_DAYS: u32 = 30;
/// Most distinct (directive, blocked origin) counters per day; further new origins are counted
/// as `other`, so a flood of invented origins cannot grow the store.
pub const MAX_COUNTERS_PER_DAY: u64 = 2000;

/// The directives a violation may name (CSP Level 3 plus the Trusted Types ones).
pub const DIRECTIVES: &[&str] = &[
    "base-uri",
    "child-src",
    "connect-src",
    "default-src",
    "fenced-frame-src",
    "font-src",
    "form-action",
    "frame-ancestors",
    "frame-src",
    "img-src",
    "manifest-src",
    "media-src",
    "navigate-to",
    "object-src",
    "prefetch-src",
    "require-trusted-types-for",
    "sandbox",
    "script-src",
    "script-src-attr",
    "script-src-elem",
    "style-src",
    "style-src-attr",
    "style-src-elem",
    "trusted-types",
    "webrtc",
    "worker-src",
];

/// Keywords browsers send instead of a URL, kept as they are.
const KEYWORDS: &[&str] = &["inline", "eval", "wasm-eval", "trusted-types-policy", "trusted-types-sink"];

/// One violation as it is counted: a directive from [`DIRECTIVES`] and a reduced origin.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// The effective directive, e.g. `script-src-elem`.
    pub directive: String,
    /// `scheme://host[:port]`, a keyword such as `inline`, or `other`.
    pub blocked: String,
}

/// Why a report body was refused: an error code and a message naming the field.
pub type ReportError = (&'static str, String);

/// Whether a `Content-Type` announces a report: `application/csp-report`,
/// `application/reports+json`, or `application/json` (which some browsers send).
pub fn is_report_type(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    matches!(essence.as_str(), "application/csp-report" | "application/reports+json" | "application/json")
}

/// Parses a report body of either format into the violations it counts. Either every report
/// of the body is valid and all are returned, or the whole body is refused.
pub fn parse_reports(body: &[u8]) -> Result<Vec<Violation>, ReportError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ("malformed_json", format!("The report is not valid JSON: {e}.")))?;
    let mut out = Vec::new();
    match value {
        Value::Object(top) => {
            let Some(Value::Object(report)) = top.get("csp-report") else {
                return Err((
                    "invalid_body",
                    "A report-uri report is an object with a `csp-report` object; a report-to one is an array."
                        .to_string(),
                ));
            };
            out.push(violation(report, "csp-report", "effective-directive", "violated-directive", "blocked-uri")?);
        }
        Value::Array(reports) => {
            if reports.len() > MAX_REPORTS_PER_BODY {
                return Err(("invalid_body", format!("More than {MAX_REPORTS_PER_BODY} reports in one body.")));
            }
            for (i, report) in reports.iter().enumerate() {
                let Value::Object(report) = report else {
                    return Err(("invalid_body", format!("Report {i} is not an object.")));
                };
                match report.get("type") {
                    Some(Value::String(t)) if t == "csp-violation" => {}
                    // Other report types (deprecation, intervention, ...) may share the endpoint.
                    Some(Value::String(_)) => continue,
                    _ => return Err(("invalid_field", format!("Report {i} has no string `type`."))),
                }
                let Some(Value::Object(body)) = report.get("body") else {
                    return Err(("invalid_field", format!("Report {i} has no `body` object.")));
                };
                let at = format!("[{i}].body");
                out.push(violation(body, &at, "effectiveDirective", "violatedDirective", "blockedURL")?);
            }
        }
        _ => {
            return Err(("invalid_body", "A report is a JSON object (report-uri) or array (report-to).".to_string()));
        }
    }
    Ok(out)
}

fn violation(
    report: &Map<String, Value>,
    at: &str,
    effective: &str,
    violated: &str,
    blocked: &str,
) -> Result<Violation, ReportError> {
    let directive = match (report.get(effective), report.get(violated)) {
        (Some(Value::String(d)), _) => d.as_str(),
        (None, Some(Value::String(d))) => d.as_str(),
        _ => return Err(("missing_field", format!("The field `{at}.{effective}` is required and must be a string."))),
    };
    // Old browsers send the violated directive with its sources: keep the name.
    let directive = directive.split_ascii_whitespace().next().unwrap_or("").to_ascii_lowercase();
    if !DIRECTIVES.contains(&directive.as_str()) {
        return Err(("invalid_field", format!("The field `{at}.{effective}` is not a CSP directive.")));
    }
    let blocked = match report.get(blocked) {
        None => "other".to_string(),
        Some(Value::String(b)) => reduce_blocked(b),
        Some(_) => return Err(("invalid_field", format!("The field `{at}.{blocked}` must be a string."))),
    };
    Ok(Violation { directive, blocked })
}

/// Reduces a blocked URI to what is counted: `scheme://host[:port]` for a web URL (no user
/// info, path, query or fragment; default ports dropped), a keyword, `data`, `blob`, or
/// `other`.
pub fn reduce_blocked(uri: &str) -> String {
    let uri = uri.trim();
    let lower = uri.to_ascii_lowercase();
    if KEYWORDS.contains(&lower.as_str()) {
        return lower;
    }
    for scheme in ["data", "blob"] {
        if lower == scheme || lower.starts_with(&format!("{scheme}:")) {
            return scheme.to_string();
        }
    }
    let Some((scheme, rest)) = lower.split_once("://") else {
        return "other".to_string();
    };
    let default_port = match scheme {
        "http" | "ws" => "80",
        "https" | "wss" => "443",
        _ => return "other".to_string(),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Drop user info: it can hold a name or a token.
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        match v6.split_once(']') {
            Some((addr, tail)) if !addr.is_empty() && addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') => {
                match tail.strip_prefix(':') {
                    Some(port) => (format!("[{addr}]"), port),
                    None if tail.is_empty() => (format!("[{addr}]"), ""),
                    None => return "other".to_string(),
                }
            }
            _ => return "other".to_string(),
        }
    } else {
        let (host, port) = host_port.split_once(':').unwrap_or((host_port, ""));
        let host = host.trim_end_matches('.');
        let ok = !host.is_empty()
            && host.len() <= 253
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !host.starts_with(['.', '-']);
        if !ok {
            return "other".to_string();
        }
        (host.to_string(), port)
    };
    if !port.is_empty() && (port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit())) {
        return "other".to_string();
    }
    let port = port.trim_start_matches('0');
    if port.parse::<u32>().is_ok_and(|p| p > 65_535) {
        return "other".to_string();
    }
    if port.is_empty() || port == default_port {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_uris_are_reduced_to_origins_or_keywords() {
        for (input, want) in [
            ("https://cdn.example.com/a/b.js?user=alice#x", "https://cdn.example.com"),
            ("HTTPS://CDN.Example.com:443/x", "https://cdn.example.com"),
            ("http://127.0.0.1:8080/p?q", "http://127.0.0.1:8080"),
            ("https://alice:secret@evil.example/x", "https://evil.example"),
            ("wss://push.example:9443/socket", "wss://push.example:9443"),
            ("https://[2001:db8::1]:8443/x", "https://[2001:db8::1]:8443"),
            ("inline", "inline"),
            ("eval", "eval"),
            ("data", "data"),
            ("data:image/png;base64,AAAA", "data"),
            ("blob:https://shop.example/1234", "blob"),
            ("", "other"),
            ("chrome-extension://abcdef/x.js", "other"),
            ("https://bad host/", "other"),
            ("https://x.example:99999/", "other"),
            ("javascript:alert(1)", "other"),
        ] {
            assert_eq!(reduce_blocked(input), want, "{input}");
        }
    }

    #[test]
    fn both_formats_parse_and_other_types_are_ignored() {
        let old = br#"{"csp-report":{"document-uri":"https://shop.example/p?email=a@b.c","effective-directive":"script-src-elem","blocked-uri":"https://t.example/x.js?id=1","original-policy":"script-src 'self'"}}"#;
        assert_eq!(
            parse_reports(old).unwrap(),
            vec![Violation { directive: "script-src-elem".into(), blocked: "https://t.example".into() }]
        );
        let legacy = br#"{"csp-report":{"violated-directive":"img-src 'self'","blocked-uri":"data"}}"#;
        assert_eq!(parse_reports(legacy).unwrap()[0].directive, "img-src");
        let new = br#"[{"type":"deprecation","body":{}},{"type":"csp-violation","url":"https://shop.example/","user_agent":"X","body":{"effectiveDirective":"style-src-attr","blockedURL":"inline"}}]"#;
        assert_eq!(
            parse_reports(new).unwrap(),
            vec![Violation { directive: "style-src-attr".into(), blocked: "inline".into() }]
        );
    }

    #[test]
    fn malformed_reports_are_refused_whole() {
        for bad in [
            &b"{"[..],
            b"42",
            br#"{"report":{}}"#,
            br#"{"csp-report":{"blocked-uri":"inline"}}"#,
            br#"{"csp-report":{"effective-directive":"tracking-src","blocked-uri":"inline"}}"#,
            br#"{"csp-report":{"effective-directive":"img-src","blocked-uri":7}}"#,
            br#"[{"type":"csp-violation","body":{"effectiveDirective":"img-src"}},{"type":"csp-violation"}]"#,
            br#"[1]"#,
        ] {
            assert!(parse_reports(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let many =
            format!("[{}]", vec![r#"{"type":"csp-violation","body":{"effectiveDirective":"img-src"}}"#; 101].join(","));
        assert!(parse_reports(many.as_bytes()).is_err());
    }
}
