//! nginx: a `map` turns the `cohort_ID` cookie into the variant folder, and `try_files`
//! serves `/c/ID/PATH/index.html` when it exists and the default file otherwise. The map's
//! default is `_`, which no cohort id can be, so no cookie means no variant.

use super::HostConfig;

pub(crate) fn render(c: &HostConfig) -> String {
    let mut out = String::from(
        "# cohort hosting --target nginx\n# Put the map in the http {} block and the server block beside it; adjust listen and\n# server_name, and terminate TLS as usual.\n\n",
    );
    out.push_str("map $http_cookie $cohort_variant {\n    default \"_\";\n    \"~(?:^|;)\\s*cohort_(?<cohort_id>[a-z0-9-]+)=\" $cohort_id;\n}\n\n");
    out.push_str("server {\n    listen 80;\n    server_name _;\n");
    out.push_str(&format!("    root {};\n    index index.html;\n    charset utf-8;\n", quote(&c.site_dir)));
    out.push_str(&format!("    error_page 404 {}404.html;\n\n", c.base_path));
    let global = c.global_headers();
    let add = |out: &mut String, headers: &[(String, String)], indent: &str| {
        for (name, value) in headers {
            out.push_str(&format!("{indent}add_header {name} {} always;\n", quote(value)));
        }
    };
    for (prefix, headers) in c.prefix_rules() {
        out.push_str(&format!("    location ^~ {prefix} {{\n"));
        add(&mut out, &global, "        ");
        add(&mut out, &headers, "        ");
        out.push_str("        try_files $uri =404;\n    }\n\n");
    }
    let bp = c.base_path.trim_end_matches('/');
    out.push_str(&format!("    location ~ ^{bp}(?<cohort_rest>/.*)$ {{\n"));
    add(&mut out, &global, "        ");
    out.push_str("        add_header Vary Cookie always;\n");
    out.push_str(&format!("        try_files {bp}/c/$cohort_variant${{cohort_rest}}index.html $uri $uri/ =404;\n"));
    out.push_str("    }\n}\n");
    out
}

/// nginx string quoting for values with spaces, quotes or semicolons.
fn quote(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}
