//! Cloudflare Pages: `_redirects` has no conditions there, so a `_worker.js` (Pages
//! "advanced mode") routes requests carrying a `cohort_ID` cookie to the variant, and serves
//! every other request from the static assets. It sets the headers of `_headers` itself
//! (the same typed rules every target renders), so the policy a page gets does not depend
//! on whether Pages applies `_headers` to responses that pass through a worker.

use super::HostConfig;
use serde_json::json;

pub(crate) fn render(c: &HostConfig) -> String {
    let variants = json!(c.routes);
    let table = serde_json::to_string(&variants).unwrap_or_else(|_| "{}".into());
    let rules: Vec<serde_json::Value> =
        c.rules.iter().map(|r| json!({"pattern": r.pattern, "headers": r.headers})).collect();
    let rules = serde_json::to_string(&rules).unwrap_or_else(|_| "[]".into());
    format!(
        r#"// cohort hosting --target cloudflare
// Save as _worker.js in the published folder (e.g. `cohort hosting --target cloudflare > public/_worker.js`
// after each build). Cloudflare Pages then runs it in front of the static files.
const VARIANTS = {table};
const COOKIE = /(?:^|;\s*)cohort_([a-z0-9-]+)=/;
// The rules of _headers: [{{pattern, headers: [[name, value]]}}]; `*` matches anything.
const RULES = {rules};
const matches = (pattern, path) =>
  pattern.endsWith("*") ? path.startsWith(pattern.slice(0, -1)) : pattern === path;
function withHeaders(response, path, routed) {{
  const out = new Response(response.body, response);
  for (const rule of RULES) {{
    if (!matches(rule.pattern, path)) continue;
    for (const [name, value] of rule.headers) {{
      if (name.toLowerCase() === "vary") out.headers.append(name, value);
      else out.headers.set(name, value);
    }}
  }}
  if (routed && !out.headers.has("Vary")) out.headers.append("Vary", "Cookie");
  return out;
}}

export default {{
  async fetch(request, env) {{
    const url = new URL(request.url);
    const byCohort = VARIANTS[url.pathname];
    if (!byCohort) return withHeaders(await env.ASSETS.fetch(request), url.pathname, false);
    const match = (request.headers.get("Cookie") || "").match(COOKIE);
    const target = match && Object.prototype.hasOwnProperty.call(byCohort, match[1]) ? byCohort[match[1]] : null;
    const upstream = target ? new Request(new URL(target, url), request) : request;
    return withHeaders(await env.ASSETS.fetch(upstream), url.pathname, true);
  }},
}};
"#
    )
}
