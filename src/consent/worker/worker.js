// Cohort consent endpoint for Cloudflare Workers + D1, written by `cohort consent-worker`.
// The same API as `cohort consent-server` (SPEC section 7): routes, validation, limits,
// status codes, CORS, k on stats, expiry, POST /v1/csp-report. Nothing that identifies a
// visitor is read, stored or logged: no address, user agent, cookie or exact time. The rate
// limit is one global counter per minute in D1, keyed by nothing personal.
// Configuration comes from the [vars] of wrangler.toml.

const MAX_BODY = 4096;
const MAX_REPORT_BODY = 32 * 1024;
const MAX_REPORTS_PER_BODY = 100;
const VIOLATION_RETENTION_DAYS = 30;
const MAX_COUNTERS_PER_DAY = 2000;
const PURPOSES = ['personalization', 'functional', 'analytics', 'marketing'];
const REQUIRED_PURPOSES = ['personalization', 'analytics'];
const POLICY_VERSION_RULE = 'a date such as 2026-11-01 or a short slug: 1 to 32 lowercase letters, digits, dots and hyphens, starting with a letter or digit';
const DIRECTIVES = new Set([
  'base-uri', 'child-src', 'connect-src', 'default-src', 'fenced-frame-src', 'font-src', 'form-action',
  'frame-ancestors', 'frame-src', 'img-src', 'manifest-src', 'media-src', 'navigate-to', 'object-src',
  'prefetch-src', 'require-trusted-types-for', 'sandbox', 'script-src', 'script-src-attr', 'script-src-elem',
  'style-src', 'style-src-attr', 'style-src-elem', 'trusted-types', 'webrtc', 'worker-src',
]);
const KEYWORDS = new Set(['inline', 'eval', 'wasm-eval', 'trusted-types-policy', 'trusted-types-sink']);

function config(env) {
  const list = (v) => String(v || '').split(',').map((s) => s.trim()).filter(Boolean);
  const int = (v, d) => (/^\d+$/.test(String(v ?? '')) ? Number(v) : d);
  return {
    prefix: String(env.PREFIX || '/v1').replace(/\/+$/, ''),
    origins: list(env.ALLOW_ORIGINS),
    k: int(env.K, 10),
    retention: int(env.RETENTION_DAYS, 395),
    versions: list(env.POLICY_VERSIONS),
    rateLimit: int(env.RATE_LIMIT, 6000),
  };
}

// UTC days, as the Rust server counts them.
const today = () => Math.floor(Date.now() / 86400000);
const dayText = (d) => new Date(d * 86400000).toISOString().slice(0, 10);

function json(status, value, headers = {}) {
  return new Response(JSON.stringify(value), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}
const error = (status, code, message, headers) => json(status, { error: code, message }, headers);
const empty = (status, headers = {}) => new Response(null, { status, headers });
const unavailable = () => error(503, 'store_unavailable', 'The consent store is unavailable; nothing was recorded. Try again later.', { 'Retry-After': '5' });
const notFound = (what = 'No such receipt.') => error(404, 'not_found', what);

const isReceipt = (s) => /^[0-9a-f]{32}$/.test(s);
const isPolicyVersion = (v) => typeof v === 'string' && /^[a-z0-9][a-z0-9.-]{0,31}$/.test(v);
const essence = (ct) => String(ct || '').split(';')[0].trim().toLowerCase();
const fieldName = (n) => (n.length <= 40 && /^[\x21-\x7e]+$/.test(n) ? '`' + n + '`' : 'a field');

function route(cfg, pathname) {
  if (pathname === '/healthz') return { name: 'healthz', methods: 'GET, HEAD' };
  if (!pathname.startsWith(cfg.prefix)) return null;
  const rest = pathname.slice(cfg.prefix.length);
  if (rest === '/consent') return { name: 'consent', methods: 'POST, OPTIONS' };
  if (rest === '/stats') return { name: 'stats', methods: 'GET, OPTIONS' };
  if (rest === '/csp-report') return { name: 'csp-report', methods: 'POST, OPTIONS' };
  const m = /^\/consent\/([^/]+)$/.exec(rest);
  if (m) return { name: 'item', methods: 'GET, DELETE, OPTIONS', receipt: m[1] };
  return null;
}

const allowedMethod = (r, method) => ({
  healthz: ['GET', 'HEAD'], consent: ['POST'], stats: ['GET'], 'csp-report': ['POST'], item: ['GET', 'DELETE'],
}[r.name].includes(method));

// Reads at most `max` + 1 bytes: null when the body is longer than `max`.
async function readLimited(request, max) {
  const declared = request.headers.get('Content-Length');
  if (declared !== null && (!/^\d+$/.test(declared) || Number(declared) > max)) return null;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.byteLength; }
  return out;
}

function parseJson(bytes) {
  try {
    return { value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) };
  } catch (e) {
    return { error: ['malformed_json', `The body is not valid JSON: ${e.message}.`] };
  }
}

function parseConsent(value) {
  const missing = (f) => ['missing_field', `The field \`${f}\` is required.`];
  const invalid = (f, why) => ['invalid_field', `The field \`${f}\` ${why}.`];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: ['invalid_body', 'The body must be a JSON object.'] };
  for (const key of Object.keys(value)) {
    if (!['policy_version', 'purposes', 'ui'].includes(key)) return { error: ['unknown_field', `Unknown field ${fieldName(key)}; expected policy_version, purposes and ui.`] };
  }
  if (!('policy_version' in value)) return { error: missing('policy_version') };
  if (typeof value.policy_version !== 'string') return { error: invalid('policy_version', 'must be a string') };
  if (!isPolicyVersion(value.policy_version)) return { error: invalid('policy_version', `must be ${POLICY_VERSION_RULE}`) };
  const p = value.purposes;
  if (!('purposes' in value)) return { error: missing('purposes') };
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return { error: invalid('purposes', 'must be an object of booleans') };
  for (const key of Object.keys(p)) {
    if (!PURPOSES.includes(key)) return { error: ['unknown_purpose', `Unknown purpose ${fieldName(key)} in \`purposes\`; known: personalization, functional, analytics, marketing.`] };
  }
  const flags = {};
  for (const name of PURPOSES) {
    if (!(name in p)) {
      if (REQUIRED_PURPOSES.includes(name)) return { error: missing(`purposes.${name}`) };
      flags[name] = false;
    } else if (typeof p[name] !== 'boolean') {
      return { error: invalid(`purposes.${name}`, 'must be true or false') };
    } else {
      flags[name] = p[name];
    }
  }
  if (!('ui' in value)) return { error: missing('ui') };
  if (typeof value.ui !== 'string') return { error: invalid('ui', 'must be a string') };
  if (!/^[0-9a-fA-F]{64}$/.test(value.ui)) return { error: invalid('ui', 'must be a sha256 as 64 hex digits') };
  return { consent: { policy_version: value.policy_version, purposes: flags, ui: value.ui.toLowerCase() } };
}

function reduceBlocked(uri) {
  const lower = String(uri).trim().toLowerCase();
  if (KEYWORDS.has(lower)) return lower;
  for (const s of ['data', 'blob']) if (lower === s || lower.startsWith(s + ':')) return s;
  const m = /^(https?|wss?):\/\/([^/?#]*)/.exec(lower);
  if (!m) return 'other';
  const scheme = m[1];
  const hostPort = m[2].split('@').pop();
  let host, port;
  const v6 = /^\[([0-9a-f:]+)\](?::(.*))?$/.exec(hostPort);
  if (hostPort.startsWith('[')) {
    if (!v6) return 'other';
    host = `[${v6[1]}]`;
    port = v6[2] ?? '';
  } else {
    const i = hostPort.indexOf(':');
    host = (i < 0 ? hostPort : hostPort.slice(0, i)).replace(/\.+$/, '');
    port = i < 0 ? '' : hostPort.slice(i + 1);
    if (!host || host.length > 253 || !/^[a-z0-9.-]+$/.test(host) || /^[.-]/.test(host)) return 'other';
  }
  if (port !== '' && !/^\d{1,5}$/.test(port)) return 'other';
  port = port.replace(/^0+/, '');
  if (port !== '' && Number(port) > 65535) return 'other';
  const dflt = scheme === 'http' || scheme === 'ws' ? '80' : '443';
  return port === '' || port === dflt ? `${scheme}://${host}` : `${scheme}://${host}:${port}`;
}

function violation(report, at, effective, violated, blocked) {
  let d = report[effective];
  if (d === undefined) d = report[violated];
  if (typeof d !== 'string') return { error: ['missing_field', `The field \`${at}.${effective}\` is required and must be a string.`] };
  const directive = (d.trim().split(/\s+/)[0] || '').toLowerCase();
  if (!DIRECTIVES.has(directive)) return { error: ['invalid_field', `The field \`${at}.${effective}\` is not a CSP directive.`] };
  const b = report[blocked];
  if (b !== undefined && typeof b !== 'string') return { error: ['invalid_field', `The field \`${at}.${blocked}\` must be a string.`] };
  return { v: { directive, blocked: b === undefined ? 'other' : reduceBlocked(b) } };
}

function parseReports(value) {
  const out = [];
  if (Array.isArray(value)) {
    if (value.length > MAX_REPORTS_PER_BODY) return { error: ['invalid_body', `More than ${MAX_REPORTS_PER_BODY} reports in one body.`] };
    for (let i = 0; i < value.length; i++) {
      const r = value[i];
      if (r === null || typeof r !== 'object' || Array.isArray(r)) return { error: ['invalid_body', `Report ${i} is not an object.`] };
      if (typeof r.type !== 'string') return { error: ['invalid_field', `Report ${i} has no string \`type\`.`] };
      if (r.type !== 'csp-violation') continue;
      if (r.body === null || typeof r.body !== 'object' || Array.isArray(r.body)) return { error: ['invalid_field', `Report ${i} has no \`body\` object.`] };
      const got = violation(r.body, `[${i}].body`, 'effectiveDirective', 'violatedDirective', 'blockedURL');
      if (got.error) return got;
      out.push(got.v);
    }
    return { violations: out };
  }
  if (value !== null && typeof value === 'object') {
    const r = value['csp-report'];
    if (r === null || typeof r !== 'object' || Array.isArray(r)) return { error: ['invalid_body', 'A report-uri report is an object with a `csp-report` object; a report-to one is an array.'] };
    const got = violation(r, 'csp-report', 'effective-directive', 'violated-directive', 'blocked-uri');
    if (got.error) return got;
    return { violations: [got.v] };
  }
  return { error: ['invalid_body', 'A report is a JSON object (report-uri) or array (report-to).'] };
}

function newReceipt() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

const recordJson = (r) => ({
  receipt: r.receipt,
  policy_version: r.policy_version,
  purposes: { personalization: !!r.personalization, functional: !!r.functional, analytics: !!r.analytics, marketing: !!r.marketing },
  ui: r.ui,
  recorded: r.recorded,
  expires: r.expires,
});

// The global write counter of this minute: nothing about who wrote.
async function overLimit(env, cfg) {
  if (cfg.rateLimit === 0) return null;
  const now = Date.now();
  const minute = Math.floor(now / 60000);
  const row = await env.DB.prepare(
    'INSERT INTO rate_window (minute, count) VALUES (?1, 1) ON CONFLICT (minute) DO UPDATE SET count = count + 1 RETURNING count',
  ).bind(minute).first();
  if (row && row.count > cfg.rateLimit) return Math.max(1, Math.ceil(((minute + 1) * 60000 - now) / 1000));
  return null;
}

async function stats(env, cfg) {
  const t = dayText(today());
  const { results } = await env.DB.prepare(
    'SELECT policy_version, count(*) AS records, sum(personalization) AS personalization, sum(analytics) AS analytics, '
    + 'sum(functional) AS functional, sum(marketing) AS marketing FROM consent WHERE expires >= ?1 '
    + 'GROUP BY policy_version ORDER BY policy_version',
  ).bind(t).all();
  const k = cfg.k;
  const shown = (n) => (Number(n || 0) >= k ? Number(n || 0) : null);
  const versions = results.filter((r) => r.records >= k).map((r) => ({
    policy_version: r.policy_version,
    records: shown(r.records),
    purposes: { personalization: shown(r.personalization), functional: shown(r.functional), analytics: shown(r.analytics), marketing: shown(r.marketing) },
  }));
  const since = dayText(today() - VIOLATION_RETENTION_DAYS);
  const v = await env.DB.prepare(
    'SELECT day, directive, blocked, count FROM csp_violation WHERE day >= ?1 ORDER BY day, directive, blocked',
  ).bind(since).all();
  const groups = [];
  for (const r of v.results) {
    let g = groups[groups.length - 1];
    if (!g || g.day !== r.day || g.directive !== r.directive) {
      g = { day: r.day, directive: r.directive, total: 0, blocked: {} };
      groups.push(g);
    }
    g.total += r.count;
    if (r.count >= k) g.blocked[r.blocked] = r.count;
  }
  groups.sort((a, b) => (a.day === b.day ? (a.directive < b.directive ? -1 : 1) : a.day < b.day ? 1 : -1));
  const csp = groups.map((g) => ({ day: g.day, directive: g.directive, count: g.total >= k ? g.total : null, blocked: g.blocked }));
  return { k, policy_versions: versions, csp_violations: csp };
}

async function addViolations(env, violations) {
  const day = dayText(today());
  const tally = new Map();
  for (const v of violations) {
    const key = JSON.stringify([v.directive, v.blocked]);
    tally.set(key, (tally.get(key) || 0) + 1);
  }
  const row = await env.DB.prepare('SELECT count(*) AS n FROM csp_violation WHERE day = ?1').bind(day).first();
  const full = (row?.n || 0) >= MAX_COUNTERS_PER_DAY;
  const statements = [...tally.keys()].sort().map((key) => {
    const [directive, blocked] = JSON.parse(key);
    // A full day counts new origins as `other`; an existing counter keeps counting.
    const sql = full
      ? 'INSERT INTO csp_violation (day, directive, blocked, count) SELECT ?1, ?2, CASE WHEN EXISTS '
        + '(SELECT 1 FROM csp_violation WHERE day = ?1 AND directive = ?2 AND blocked = ?3) THEN ?3 ELSE \'other\' END, ?4 '
        + 'WHERE true ON CONFLICT (day, directive, blocked) DO UPDATE SET count = count + excluded.count'
      : 'INSERT INTO csp_violation (day, directive, blocked, count) VALUES (?1, ?2, ?3, ?4) '
        + 'ON CONFLICT (day, directive, blocked) DO UPDATE SET count = count + excluded.count';
    return env.DB.prepare(sql).bind(day, directive, blocked, tally.get(key));
  });
  if (statements.length) await env.DB.batch(statements);
}

async function purge(env) {
  const t = today();
  await env.DB.batch([
    env.DB.prepare('DELETE FROM consent WHERE expires < ?1').bind(dayText(t)),
    env.DB.prepare('DELETE FROM csp_violation WHERE day < ?1').bind(dayText(t - VIOLATION_RETENTION_DAYS)),
    env.DB.prepare('DELETE FROM rate_window WHERE minute < ?1').bind(Math.floor(Date.now() / 60000) - 1),
  ]);
}

async function dispatch(request, env, cfg, r, allowedOrigin) {
  const method = request.method;
  if (method === 'OPTIONS' && r.name !== 'healthz') {
    if (!allowedOrigin) return error(403, 'origin_not_allowed', 'This origin may not call the consent API.');
    return empty(204, {
      'Access-Control-Allow-Origin': allowedOrigin, 'Access-Control-Allow-Methods': r.methods,
      'Access-Control-Allow-Headers': 'Content-Type', 'Access-Control-Max-Age': '600', Allow: r.methods,
    });
  }
  if (!allowedMethod(r, method)) return error(405, 'method_not_allowed', `Allowed methods here: ${r.methods}.`, { Allow: r.methods });
  const origin = request.headers.get('Origin');
  if ((method === 'POST' || method === 'DELETE') && origin !== null && !allowedOrigin) {
    return error(403, 'origin_not_allowed', 'This origin may not call the consent API.');
  }
  if (r.name === 'healthz') {
    try {
      // A write probe: a row inserted and deleted in one batch (one transaction).
      await env.DB.batch([
        env.DB.prepare("INSERT INTO consent (receipt, policy_version, personalization, analytics, ui, recorded, expires) VALUES (?1, '-', 0, 0, '-', '-', '-')").bind(`-health-probe-${newReceipt()}`),
        env.DB.prepare("DELETE FROM consent WHERE receipt LIKE '-health-probe-%'"),
      ]);
      return json(200, { status: 'ok' });
    } catch {
      return error(503, 'store_unavailable', 'The consent store cannot write.', { 'Retry-After': '5' });
    }
  }
  if (method === 'POST' || method === 'DELETE') {
    const retry = await overLimit(env, cfg);
    if (retry !== null) return error(429, 'too_many_requests', 'Too many requests; try again after the Retry-After delay.', { 'Retry-After': String(retry) });
  }
  if (r.name === 'stats') return json(200, await stats(env, cfg));
  if (r.name === 'item') {
    if (!isReceipt(r.receipt)) return notFound();
    if (method === 'GET') {
      const row = await env.DB.prepare('SELECT * FROM consent WHERE receipt = ?1 AND expires >= ?2').bind(r.receipt, dayText(today())).first();
      return row ? json(200, recordJson(row)) : notFound();
    }
    const res = await env.DB.prepare('DELETE FROM consent WHERE receipt = ?1').bind(r.receipt).run();
    return res.meta.changes > 0 ? empty(204) : notFound();
  }
  if (r.name === 'csp-report') {
    const body = await readLimited(request, MAX_REPORT_BODY);
    if (body === null) return error(413, 'body_too_large', `The report is over ${MAX_REPORT_BODY} bytes.`);
    if (!['application/csp-report', 'application/reports+json', 'application/json'].includes(essence(request.headers.get('Content-Type')))) {
      return error(415, 'unsupported_media_type', 'Send reports as application/csp-report (report-uri) or application/reports+json (report-to).');
    }
    const parsed = parseJson(body);
    if (parsed.error) return error(400, ...parsed.error);
    const got = parseReports(parsed.value);
    if (got.error) return error(400, ...got.error);
    if (got.violations.length) await addViolations(env, got.violations);
    return empty(204);
  }
  // POST /v1/consent
  const body = await readLimited(request, MAX_BODY);
  if (body === null) return error(413, 'body_too_large', `The body is over ${MAX_BODY} bytes.`);
  if (essence(request.headers.get('Content-Type')) !== 'application/json') {
    return error(415, 'unsupported_media_type', 'Send the body as Content-Type: application/json.');
  }
  const parsed = parseJson(body);
  if (parsed.error) return error(400, ...parsed.error);
  const got = parseConsent(parsed.value);
  if (got.error) return error(400, ...got.error);
  const c = got.consent;
  if (cfg.versions.length && !cfg.versions.includes(c.policy_version)) {
    return error(400, 'invalid_field', `The field \`policy_version\` is not a version this shop published; accepted: ${cfg.versions.join(', ')}.`);
  }
  const t = today();
  const record = {
    receipt: newReceipt(), policy_version: c.policy_version, ...c.purposes, ui: c.ui,
    recorded: dayText(t), expires: dayText(t + cfg.retention),
  };
  await env.DB.prepare(
    'INSERT INTO consent (receipt, policy_version, personalization, analytics, ui, recorded, expires, functional, marketing) '
    + 'VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)',
  ).bind(record.receipt, record.policy_version, record.personalization ? 1 : 0, record.analytics ? 1 : 0, record.ui,
    record.recorded, record.expires, record.functional ? 1 : 0, record.marketing ? 1 : 0).run();
  // D1 resolves a write only once it is committed: the 201 follows a durable record.
  return json(201, recordJson(record));
}

export default {
  async fetch(request, env) {
    const cfg = config(env);
    const url = new URL(request.url);
    const r = route(cfg, url.pathname);
    const origin = request.headers.get('Origin');
    const allowedOrigin = origin !== null && cfg.origins.includes(origin) ? origin : null;
    let response;
    if (!r) {
      response = notFound('No such endpoint.');
    } else {
      try {
        response = await dispatch(request, env, cfg, r, allowedOrigin);
      } catch {
        // Never the error's text: it could quote a value.
        console.error('consent-worker: store unavailable');
        response = unavailable();
      }
    }
    const headers = new Headers(response.headers);
    if (allowedOrigin && !headers.has('Access-Control-Allow-Origin')) headers.set('Access-Control-Allow-Origin', allowedOrigin);
    if (!r || r.name !== 'healthz') {
      headers.set('Vary', 'Origin');
      headers.set('Cache-Control', 'no-store');
    }
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(request.method === 'HEAD' ? null : response.body, { status: response.status, headers });
  },

  // Daily (see [triggers] in wrangler.toml): expired receipts and old counters go.
  async scheduled(_event, env) {
    await purge(env);
  },
};
