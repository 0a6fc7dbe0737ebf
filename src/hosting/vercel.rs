//! Vercel: `vercel.json` with legacy `routes`, because routes listed before
//! `{"handle": "filesystem"}` run before an existing default file is served (rewrites run
//! after it). Each cohort route matches the path and the presence of the cookie.

use super::HostConfig;
use serde_json::{Value, json};

pub(crate) fn render(c: &HostConfig) -> String {
    let mut routes: Vec<Value> = Vec::new();
    let global: serde_json::Map<String, Value> = c.global_headers().into_iter().map(|(n, v)| (n, json!(v))).collect();
    if !global.is_empty() {
        routes.push(json!({"src": format!("^{}.*", regex_escape(&c.base_path)), "headers": global, "continue": true}));
    }
    for (prefix, headers) in c.prefix_rules() {
        let h: serde_json::Map<String, Value> = headers.into_iter().map(|(n, v)| (n, json!(v))).collect();
        routes.push(json!({"src": format!("^{}.*", regex_escape(&prefix)), "headers": h, "continue": true}));
    }
    for (from, by_cohort) in &c.routes {
        for (id, to) in by_cohort {
            routes.push(json!({
                "src": format!("^{}$", regex_escape(from)),
                "has": [{"type": "cookie", "key": format!("cohort_{id}")}],
                "dest": format!("{to}index.html"),
                "headers": {"Vary": "Cookie"},
            }));
        }
        routes
            .push(json!({"src": format!("^{}$", regex_escape(from)), "headers": {"Vary": "Cookie"}, "continue": true}));
    }
    routes.push(json!({"handle": "filesystem"}));
    let config = json!({
        "$schema": "https://openapi.vercel.sh/vercel.json",
        // No `cleanUrls` or `trailingSlash`: Vercel refuses them beside `routes`.
        "routes": routes,
    });
    let text = serde_json::to_string_pretty(&config).unwrap_or_default();
    format!("{text}\n")
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if "\\.+*?()|[]{}^$".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}
