//! Cloudflare Pages: `_redirects` has no conditions there, so a `_worker.js` (Pages
//! "advanced mode") routes requests carrying a `cohort_ID` cookie to the variant, and serves
//! every other request from the static assets unchanged.

use super::HostConfig;
use serde_json::json;

pub(crate) fn render(c: &HostConfig) -> String {
    let variants = json!(c.routes);
    let table = serde_json::to_string(&variants).unwrap_or_else(|_| "{}".into());
    format!(
        r#"// cohort hosting --target cloudflare
// Save as _worker.js in the published folder (e.g. `cohort hosting --target cloudflare > public/_worker.js`
// after each build). Cloudflare Pages then runs it in front of the static files.
const VARIANTS = {table};
const COOKIE = /(?:^|;\s*)cohort_([a-z0-9-]+)=/;

export default {{
  async fetch(request, env) {{
    const url = new URL(request.url);
    const byCohort = VARIANTS[url.pathname];
    if (!byCohort) return env.ASSETS.fetch(request);
    const match = (request.headers.get("Cookie") || "").match(COOKIE);
    const target = match && Object.prototype.hasOwnProperty.call(byCohort, match[1]) ? byCohort[match[1]] : null;
    const upstream = target ? new Request(new URL(target, url), request) : request;
    const response = await env.ASSETS.fetch(upstream);
    const routed = new Response(response.body, response);
    routed.headers.append("Vary", "Cookie");
    return routed;
  }},
}};
"#
    )
}
