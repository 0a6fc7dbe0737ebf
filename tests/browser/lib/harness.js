// The browser suite's harness: builds a shop with the real `cohort` binary, serves it on
// 127.0.0.1 with the headers from its `_headers` file (as Netlify applies them), reverse-
// proxies /v1/ to a real `cohort consent-server`, and launches headless Chromium. Every
// process it starts is stopped by `stop()`; every wait is bounded.
'use strict';
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const REPO = path.resolve(__dirname, '..', '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.xml': 'application/xml',
  '.txt': 'text/plain; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.ico': 'image/x-icon',
};

/** Netlify-style `_headers`: blocks of a path pattern and indented `Name: value` lines. */
function parseHeaders(text) {
  const rules = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      const pattern = line.trim();
      const re = new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
      rules.push({ pattern, re, headers: [] });
    } else if (rules.length) {
      const i = line.indexOf(':');
      if (i > 0) rules[rules.length - 1].headers.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
    }
  }
  return rules;
}

function binary() {
  return process.env.COHORT_BIN || path.join(REPO, 'target', 'debug', 'cohort');
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`));
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitFor(fn, what, ms = 15_000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? ': ' + last.message : ''}`);
}

function httpRequest(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/**
 * Starts everything; returns the harness object. With `{ hugo: true }` the site is the Hugo
 * fixture (tests/sites/hugo-shop) built by the real `hugo` and then `cohort personalize`d,
 * instead of a shop built by `cohort build`; with `{ init: true }` it is the starter shop of
 * `cohort init`, built as it comes. `{ prepare: async (shopDir) => ... }` edits the copied
 * example shop (or Hugo site) before it is built.
 */
async function start(opts = {}) {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium); the suite never skips`);
  }
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'cohort-browser-'));
  const h = { work, procs: [], servers: [], consentLog: [], browser: null, prepare: opts.prepare };
  try {
    if (opts.hugo) {
      await personalizedHugo(h, typeof opts.hugo === 'object' ? opts.hugo : {});
    } else if (opts.init) {
      // The shop `cohort init` writes, as a new merchant gets it.
      h.shop = path.join(work, 'shop');
      h.initOutput = await run(binary(), ['init', h.shop]);
      h.site = path.join(work, 'public');
      h.buildOutput = await run(binary(), ['build', '--root', h.shop, '-o', h.site]);
    } else {
      // The example shop once it exists, else this suite's fixture; copied so the build's
      // consent records never land in the repository.
      const example = path.join(REPO, 'example-shop');
      const source = process.env.COHORT_SHOP || (fs.existsSync(path.join(example, 'shop.toml')) ? example : path.join(__dirname, '..', 'fixture-shop'));
      h.shopSource = source;
      h.shop = path.join(work, 'shop');
      await fsp.cp(source, h.shop, { recursive: true, filter: (src) => !/[/\\](public|consent-records|node_modules)$/.test(src) });
      // A test may add or change files of its copy of the shop before the build.
      if (opts.prepare) await opts.prepare(h.shop);
      h.site = path.join(work, 'public');
      h.buildOutput = await run(binary(), ['build', '--root', h.shop, '-o', h.site]);
    }
    const headersFile = path.join(h.site, '_headers');
    h.rules = fs.existsSync(headersFile) ? parseHeaders(await fsp.readFile(headersFile, 'utf8')) : [];

    h.port = h.port || (await freePort());
    h.origin = `http://127.0.0.1:${h.port}`;
    h.consentPort = await freePort();
    h.consentOrigin = `http://127.0.0.1:${h.consentPort}`;
    const consentBin = process.env.COHORT_CONSENT_BIN || binary();
    const cs = spawn(consentBin, ['consent-server', '--db', path.join(work, 'consent.db'), '--bind', `127.0.0.1:${h.consentPort}`, '--allow-origin', h.origin, '--rate-limit', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    h.consentOutput = '';
    cs.stdout.on('data', (d) => (h.consentOutput += d));
    cs.stderr.on('data', (d) => (h.consentOutput += d));
    h.procs.push(cs);
    await waitFor(async () => (await httpRequest(`${h.consentOrigin}/healthz`)).status === 200, `the consent server (${h.consentOutput})`);

    const server = http.createServer((req, res) => serve(h, req, res));
    h.servers.push(server);
    await new Promise((resolve, reject) => server.listen(h.port, '127.0.0.1', resolve).on('error', reject));

    const { chromium } = require('playwright-core');
    h.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    return h;
  } catch (e) {
    await stop(h);
    throw e;
  }
}

/**
 * Builds a Hugo site of tests/sites (default hugo-shop) with `hugo` and runs `cohort
 * personalize` on the output. `opts.hugo` may be `{ site, products, later, generator }`: the
 * fixture's folder, its product glob (relative to it), with `later: true` no personalize yet,
 * and `generator: 'eleventy'` for a site built by its own pinned Eleventy into `_site/`:
 * `h.personalize()` runs it (and applies its `_headers`) when the test is ready.
 */
async function personalizedHugo(h, opts = {}) {
  const name = opts.site || 'hugo-shop';
  const source = path.join(REPO, 'tests', 'sites', name);
  h.shopSource = source;
  h.shop = path.join(h.work, name);
  await fsp.cp(source, h.shop, { recursive: true, filter: (src) => !/[/\\](public|_site|node_modules|consent-records|resources)$/.test(src) });
  // A test may change its copy of the site (a layout, shop.toml) before the generator runs.
  if (h.prepare) await h.prepare(h.shop);
  const eleventy = opts.generator === 'eleventy';
  h.site = path.join(h.shop, eleventy ? '_site' : 'public');
  // A real theme's absolute URLs (Hugo's absURL) name its baseURL: build it for the origin
  // the test serves it from, as a merchant builds for their own domain.
  const baseURL = [];
  if (opts.site) {
    h.port = await freePort();
    baseURL.push('--baseURL', `http://127.0.0.1:${h.port}/`);
    const toml = path.join(h.shop, 'shop.toml');
    const text = await fsp.readFile(toml, 'utf8');
    await fsp.writeFile(toml, text.replace(/^base_url = .*$/m, `base_url = "http://127.0.0.1:${h.port}"`));
  }
  if (eleventy) {
    // The site's own pinned Eleventy (its package-lock.json; tests/browser/run.sh installs it).
    const modules = path.join(source, 'node_modules');
    if (!fs.existsSync(path.join(modules, '@11ty', 'eleventy'))) {
      throw new Error(`Eleventy is not installed in ${source}: run npm ci there (tests/browser/run.sh does)`);
    }
    await fsp.symlink(modules, path.join(h.shop, 'node_modules'));
    h.hugoOutput = await run(process.execPath, [path.join('node_modules', '@11ty', 'eleventy', 'cmd.cjs'), '--quiet'], { cwd: h.shop });
  } else {
    h.hugoOutput = await run('hugo', ['--quiet', '--source', h.shop, '--destination', h.site, ...baseURL], {
      env: { ...process.env, HUGO_CACHEDIR: path.join(h.work, 'hugo-cache') },
    });
  }
  const products = path.join(h.shop, ...(opts.products || 'content/products/*.md').split('/'));
  h.personalize = async () => {
    h.buildOutput = await run(binary(), ['personalize', '--site', h.site, '--root', h.shop, '--products', products]);
    h.rules = parseHeaders(await fsp.readFile(path.join(h.site, '_headers'), 'utf8'));
  };
  if (!opts.later) await h.personalize();
}

function applyHeaders(h, urlPath, res) {
  for (const rule of h.rules) {
    if (rule.re.test(urlPath)) for (const [k, v] of rule.headers) res.setHeader(k, v);
  }
}

function serve(h, req, res) {
  const url = new URL(req.url, h.origin);
  if (url.pathname.startsWith('/v1/')) return proxy(h, req, res, url);
  let rel;
  try {
    rel = decodeURIComponent(url.pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  let file = path.join(h.site, rel);
  if (!file.startsWith(h.site + path.sep) && file !== h.site) {
    res.writeHead(400).end();
    return;
  }
  let status = 200;
  try {
    if (fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    fs.accessSync(file);
  } catch {
    file = path.join(h.site, '404.html');
    status = 404;
  }
  applyHeaders(h, url.pathname, res);
  // A site without a 404 page (Hargo's 404 template is empty): a bare 404.
  if (status === 404 && !fs.existsSync(file)) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    return;
  }
  res.setHeader('Content-Type', TYPES[path.extname(file)] || 'application/octet-stream');
  res.writeHead(status);
  fs.createReadStream(file).pipe(res);
}

function proxy(h, req, res, url) {
  const entry = { method: req.method, path: url.pathname, status: null };
  h.consentLog.push(entry);
  const headers = { ...req.headers, host: `127.0.0.1:${h.consentPort}` };
  const up = http.request({ host: '127.0.0.1', port: h.consentPort, method: req.method, path: url.pathname + url.search, headers, timeout: 10_000 }, (r) => {
    entry.status = r.statusCode;
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('timeout', () => up.destroy(new Error('timeout')));
  up.on('error', () => {
    entry.status = 502;
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
}

async function stop(h) {
  if (h.browser) await h.browser.close().catch(() => {});
  for (const s of h.servers) {
    s.closeAllConnections?.();
    await new Promise((r) => s.close(() => r()));
  }
  for (const p of h.procs) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      await Promise.race([new Promise((r) => p.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
  }
  if (h.work) await fsp.rm(h.work, { recursive: true, force: true }).catch(() => {});
}

module.exports = { start, stop, waitFor, httpRequest, parseHeaders, CHROMIUM_ARGS };
