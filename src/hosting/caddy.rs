//! Caddy: one named matcher per cohort on the `Cookie` header, each with `try_files` that
//! prefers the variant file and falls back to the default.

use super::HostConfig;

pub(crate) fn render(c: &HostConfig) -> String {
    let mut out = String::from(
        "# cohort hosting --target caddy\n# A Caddyfile site block; replace the address with your domain (Caddy adds TLS).\n",
    );
    if c.base_path != "/" {
        out.push_str(&format!(
            "# This block serves the site at the domain root; for base path {} put it behind\n# `handle_path {}*` in your own site block.\n",
            c.base_path, c.base_path
        ));
    }
    out.push_str("\n:80 {\n");
    out.push_str(&format!("    root * {}\n    encode gzip\n", quoted(&c.site_dir)));
    let global = c.global_headers();
    if !global.is_empty() {
        out.push_str("    header {\n");
        for (n, v) in &global {
            out.push_str(&format!("        {n} {}\n", quoted(v)));
        }
        out.push_str("    }\n");
    }
    for (prefix, headers) in c.prefix_rules() {
        for (n, v) in headers {
            out.push_str(&format!("    header {prefix}* {n} {}\n", quoted(&v)));
        }
    }
    out.push_str("    header Vary Cookie\n");
    let routed: std::collections::BTreeSet<&String> = c.routes.values().flat_map(|m| m.keys()).collect();
    for id in routed {
        out.push_str(&format!("    @cohort_{id} header_regexp Cookie \"(^|;\\s*)cohort_{id}=\"\n"));
        out.push_str(&format!(
            "    handle @cohort_{id} {{\n        try_files /c/{id}{{path}}index.html {{path}} {{path}}/\n        file_server\n    }}\n"
        ));
    }
    out.push_str("    handle {\n        file_server\n    }\n");
    out.push_str(&format!(
        "    handle_errors {{\n        rewrite * {}404.html\n        file_server\n    }}\n}}\n",
        c.base_path
    ));
    out
}

fn quoted(v: &str) -> String {
    format!("\"{}\"", v.replace('"', "\\\""))
}
