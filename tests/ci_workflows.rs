//! The deploy files `cohort init --ci` and `cohort hosting --ci` write, checked by real tools:
//! actionlint (with shellcheck on every `run:` script) and GitHub's workflow schema for GitHub
//! Actions, GitLab's CI schema for `.gitlab-ci.yml` (both from check-jsonschema), Netlify's own
//! build runner (netlify-cli, offline) for `netlify.toml`, and the build steps themselves run
//! as written. `.ci/lint-tools.sh` installs the pinned linters; `tests/runtimes` holds
//! netlify-cli (`npm ci --ignore-scripts`, which this test runs when it is missing).

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn cohort_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cohort"))
}

const GITHUB_HOSTS: [&str; 4] = ["github-pages", "netlify", "cloudflare", "vercel"];
const GITLAB_HOSTS: [&str; 4] = ["gitlab-pages", "netlify", "cloudflare", "vercel"];

/// The folder with actionlint, check-jsonschema and the venv's python, installed once.
fn lint_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let out = Command::new("bash").arg(repo().join(".ci/lint-tools.sh")).output().expect("bash runs");
        assert!(out.status.success(), "installing the linters failed:\n{}", String::from_utf8_lossy(&out.stderr));
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// `tests/runtimes` with its node_modules (npm ci --ignore-scripts the first time).
fn runtimes() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = repo().join("tests/runtimes");
        let needed =
            ["node_modules/.bin/netlify", "node_modules/netlify-plugin-cache", "node_modules/@vercel/routing-utils"];
        if needed.iter().any(|p| !dir.join(p).exists()) {
            let ok = Command::new("npm")
                .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .expect("npm runs (apt-get install -y npm)");
            assert!(ok.success(), "npm ci in tests/runtimes failed");
        }
        dir
    })
}

/// A new shop with the deploy files for `ci` and `deploy`.
fn init_with(ci: &str, deploy: Option<&str>) -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let shop = tmp.path().join("shop");
    let mut args = vec!["init", shop.to_str().unwrap(), "--ci", ci];
    if let Some(d) = deploy {
        args.extend(["--deploy", d]);
    }
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    (tmp, shop, stdout)
}

/// Runs a linter; returns (success, combined output).
fn lint(tool: &str, args: &[&str]) -> (bool, String) {
    let path = format!("{}:{}", lint_bin().display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(lint_bin().join(tool)).args(args).env("PATH", path).output().expect("linter runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The workflow as JSON (YAML parsed by ruamel, check-jsonschema's parser).
fn yaml_to_json(file: &Path) -> serde_json::Value {
    let out = Command::new(lint_bin().join("python"))
        .args([
            "-c",
            "import sys, json; from ruamel.yaml import YAML; print(json.dumps(YAML(typ='safe').load(open(sys.argv[1]))))",
            file.to_str().unwrap(),
        ])
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

/// Secrets are referred to by name, and nothing that looks like a value is written.
fn assert_secrets_by_name(text: &str, names: &[&str]) {
    for name in names {
        assert!(text.contains(name), "the file names {name}");
    }
    for line in text.lines() {
        let l = line.trim();
        for name in names {
            if let Some((key, value)) = l.split_once(':')
                && key.trim() == *name
            {
                assert!(value.trim().starts_with("${{ secrets.") || value.trim().starts_with("${{ vars."), "{l}");
            }
        }
    }
}

#[test]
fn github_workflows_pass_actionlint_and_githubs_schema() {
    let mut files = Vec::new();
    let mut keep = Vec::new();
    for host in GITHUB_HOSTS {
        let (tmp, shop, stdout) = init_with("github", Some(host));
        let file = shop.join(".github/workflows/deploy.yml");
        let text = read(&file);
        assert!(stdout.contains(".github/workflows/deploy.yml") && stdout.contains("COHORT_GIT"), "{stdout}");
        assert!(text.contains("cargo install --locked --git \"$COHORT_GIT\""), "{host}: installs Cohort");
        assert!(text.contains("actions/cache@"), "{host}: caches the binary");
        assert!(text.contains("cohort check") && text.contains("cohort build"), "{host}");
        match host {
            "github-pages" => {
                assert!(text.contains("actions/upload-pages-artifact@") && text.contains("actions/deploy-pages@"));
            }
            "netlify" => assert_secrets_by_name(&text, &["NETLIFY_AUTH_TOKEN", "NETLIFY_SITE_ID"]),
            "cloudflare" => assert_secrets_by_name(&text, &["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"]),
            _ => assert_secrets_by_name(&text, &["VERCEL_TOKEN", "VERCEL_ORG_ID", "VERCEL_PROJECT_ID"]),
        }
        files.push(file.to_str().unwrap().to_string());
        keep.push(tmp);
    }
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let (ok, out) = lint("actionlint", &args);
    assert!(ok, "actionlint:\n{out}");
    let mut schema = vec!["--builtin-schema", "vendor.github-workflows"];
    schema.extend(&args);
    let (ok, out) = lint("check-jsonschema", &schema);
    assert!(ok, "GitHub workflow schema:\n{out}");
}

/// The linters are not a formality: a typo in a step id, and a `run:` script shellcheck
/// objects to, are both reported with their lines.
#[test]
fn actionlint_rejects_a_broken_workflow() {
    let (_tmp, shop, _) = init_with("github", Some("netlify"));
    let file = shop.join(".github/workflows/deploy.yml");
    let text = read(&file);
    let broken = text
        .replace("steps.cohort-cache.outputs", "steps.cohort-cahce.outputs")
        .replace("run: cohort build\n", "run: cd $RUNNER_TEMP && cd - && cohort build -o $(pwd)/public\n");
    assert_ne!(broken, text);
    std::fs::write(&file, broken).unwrap();
    let (ok, out) = lint("actionlint", &[file.to_str().unwrap()]);
    assert!(!ok, "{out}");
    assert!(out.contains("cohort-cahce"), "the step id typo is reported:\n{out}");
    assert!(out.contains("shellcheck") && out.contains("SC2046"), "shellcheck runs on run: scripts:\n{out}");
}

#[test]
fn gitlab_pipelines_pass_gitlabs_schema() {
    let mut files = Vec::new();
    let mut keep = Vec::new();
    for host in GITLAB_HOSTS {
        let (tmp, shop, _) = init_with("gitlab", Some(host));
        let file = shop.join(".gitlab-ci.yml");
        let ci = yaml_to_json(&file);
        let build = ci["build"]["script"].as_array().expect("build script").iter().filter_map(|s| s.as_str());
        let build: Vec<&str> = build.collect();
        assert!(build.iter().any(|s| s.contains("cargo install --locked --git")), "{host}: {build:?}");
        assert!(build.iter().any(|s| s.starts_with("cohort build")), "{host}: {build:?}");
        assert_eq!(ci["build"]["cache"]["paths"][0], ".cohort/", "{host}: the binary is cached");
        if host == "gitlab-pages" {
            assert_eq!(ci["pages"]["artifacts"]["paths"][0], "public", "GitLab Pages publishes public/");
        } else {
            assert_eq!(ci["deploy"]["stage"], "deploy");
            assert!(ci["deploy"]["needs"][0] == "build");
        }
        files.push(file.to_str().unwrap().to_string());
        keep.push(tmp);
    }
    let mut args = vec!["--builtin-schema", "vendor.gitlab-ci"];
    args.extend(files.iter().map(String::as_str));
    let (ok, out) = lint("check-jsonschema", &args);
    assert!(ok, "GitLab CI schema:\n{out}");
    // The schema is not a formality either: a script line YAML reads as a mapping is refused.
    let broken = keep[0].path().join("broken.yml");
    std::fs::write(&broken, read(Path::new(&files[0])).replace("- cohort check", "- echo version: 3")).unwrap();
    let (ok, out) = lint("check-jsonschema", &["--builtin-schema", "vendor.gitlab-ci", broken.to_str().unwrap()]);
    assert!(!ok, "{out}");
}

/// The steps that build the site, run as the workflow writes them (with this `cohort` on the
/// PATH instead of the installed one): what each host is handed is there and well formed.
#[test]
fn the_workflow_build_steps_run_as_written() {
    // A folder whose `cohort` is the binary under test.
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(cohort_bin(), bin.path().join("cohort")).unwrap();
    let bin_dir = bin.path().to_path_buf();
    for host in GITHUB_HOSTS {
        let (_tmp, shop, _) = init_with("github", Some(host));
        let wf = yaml_to_json(&shop.join(".github/workflows/deploy.yml"));
        let steps = wf["jobs"]["build"]["steps"].as_array().expect("steps");
        let mut ran = 0;
        for step in steps.iter().filter(|s| s["name"] == "Build" || s["name"] == "Check the shop") {
            let script = step["run"].as_str().expect("run");
            let out = Command::new("bash")
                .args(["-eo", "pipefail", "-c", script])
                .current_dir(&shop)
                .env("PATH", format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default()))
                .env("BASE_URL", "https://merchant.github.io/shop")
                .output()
                .expect("bash");
            assert!(out.status.success(), "{host}: {script}\n{}", String::from_utf8_lossy(&out.stderr));
            ran += 1;
        }
        assert_eq!(ran, 2, "{host}: check and build ran");
        let public = shop.join("public");
        assert!(public.join("index.html").is_file());
        match host {
            "github-pages" => {
                let home = read(&public.join("index.html"));
                assert!(home.contains("https://merchant.github.io/shop/"), "the Pages address is the base URL");
            }
            "cloudflare" => {
                let worker = read(&public.join("_worker.js"));
                assert!(worker.contains("export default") && worker.contains("VARIANTS"));
                assert!(!read(&public.join("_redirects")).contains("Cookie="), "Pages would reject the cookie rules");
            }
            "vercel" => {
                let config: serde_json::Value =
                    serde_json::from_str(&read(&shop.join(".vercel/output/config.json"))).expect("config.json");
                assert_eq!(config["version"], 3);
                let routes = config["routes"].as_array().expect("routes");
                let fs_at = routes.iter().position(|r| r["handle"] == "filesystem").expect("filesystem");
                let first_cohort = routes.iter().position(|r| r.get("has").is_some()).expect("cohort routes");
                assert!(first_cohort < fs_at);
                assert!(shop.join(".vercel/output/static/index.html").is_file());
                // Vercel's own route validator (what its CLI checks routes with) accepts them.
                let script = "const { normalizeRoutes } = require(process.argv[1]); \
                    const c = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8')); \
                    const { error } = normalizeRoutes(c.routes); \
                    if (error) { console.error(JSON.stringify(error)); process.exit(1); }";
                let validator = runtimes().join("node_modules/@vercel/routing-utils");
                let out = Command::new("node")
                    .args(["-e", script, validator.to_str().unwrap()])
                    .arg(shop.join(".vercel/output/config.json"))
                    .output()
                    .expect("node runs");
                assert!(out.status.success(), "Vercel rejects the routes: {}", String::from_utf8_lossy(&out.stderr));
            }
            _ => assert!(public.join("_redirects").is_file() && public.join("_headers").is_file()),
        }
    }
}

/// Netlify builds the shop itself: its own build runner (netlify-cli, offline) reads
/// netlify.toml, runs the cache plugin and the command, and a second build with the binary
/// gone from the work tree gets it back from the cache instead of installing it again.
#[test]
fn netlify_builds_the_shop_itself_and_caches_the_binary() {
    let (tmp, shop, _) = init_with("netlify", None);
    let config: toml::Table = toml::from_str(&read(&shop.join("netlify.toml"))).expect("netlify.toml parses");
    assert_eq!(config["build"]["publish"].as_str(), Some("public"));
    let package: serde_json::Value = serde_json::from_str(&read(&shop.join("package.json"))).expect("package.json");
    assert_eq!(package["devDependencies"]["netlify-plugin-cache"], "1.0.3");
    // What Netlify's `npm install` would put there, from tests/runtimes (offline).
    copy_dir(&runtimes().join("node_modules/netlify-plugin-cache"), &shop.join("node_modules/netlify-plugin-cache"));
    // The first build finds a binary in .cohort/ (as if installed) and caches it.
    std::fs::create_dir_all(shop.join(".cohort/bin")).unwrap();
    std::fs::copy(cohort_bin(), shop.join(".cohort/bin/cohort")).unwrap();
    let netlify = runtimes().join("node_modules/.bin/netlify");
    let build = || {
        let out = Command::new(&netlify)
            .args(["build", "--offline"])
            .current_dir(&shop)
            .env("HOME", tmp.path())
            .env("NETLIFY_TELEMETRY_DISABLED", "1")
            .env_remove("COHORT_GIT")
            .output()
            .expect("netlify runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    };
    let (ok, first) = build();
    assert!(ok, "netlify build:\n{first}");
    assert!(first.contains("Successfully cached: .cohort"), "{first}");
    assert!(shop.join("public/index.html").is_file() && shop.join("public/_redirects").is_file());
    // Second build: no binary in the tree and no COHORT_GIT, so only the cache can succeed.
    std::fs::remove_dir_all(shop.join(".cohort")).unwrap();
    std::fs::remove_dir_all(shop.join("public")).unwrap();
    let (ok, second) = build();
    assert!(ok, "the cached binary is restored:\n{second}");
    assert!(shop.join("public/index.html").is_file());
}

#[test]
fn hosting_ci_writes_into_a_shop_and_never_overwrites() {
    let shop = copy_fixture("basic");
    let root = shop.path().to_str().unwrap();
    let file = shop.path().join(".gitlab-ci.yml");
    let (code, stdout, stderr) = run(&["hosting", "--ci", "gitlab", "--deploy", "cloudflare", "--root", root]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Wrote") && stdout.contains("CLOUDFLARE_API_TOKEN"), "{stdout}");
    std::fs::write(&file, "# mine\n").unwrap();
    let (code, _, stderr) = run(&["hosting", "--ci", "gitlab", "--root", root]);
    assert_eq!(code, 1);
    assert!(stderr.contains("already exists") && stderr.contains("--force"), "{stderr}");
    assert_eq!(read(&file), "# mine\n", "left as it was");
    let (code, _, stderr) = run(&["hosting", "--ci", "gitlab", "--root", root, "--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(read(&file).contains("pages:"));
    // A pair that does not exist, or a folder that is not a shop: exit status, nothing written.
    let (code, _, stderr) = run(&["hosting", "--ci", "github", "--deploy", "gitlab-pages", "--root", root]);
    assert_eq!(code, 2);
    assert!(stderr.contains("help:"), "{stderr}");
    assert!(!shop.path().join(".github").exists());
    let empty = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&["hosting", "--ci", "github", "--root", empty.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no shop.toml"), "{stderr}");
    assert!(std::fs::read_dir(empty.path()).unwrap().next().is_none());
    let target = empty.path().join("new-shop");
    let (code, _, _) = run(&["init", target.to_str().unwrap(), "--ci", "gitlab", "--deploy", "github-pages"]);
    assert_eq!(code, 2);
    assert!(!target.exists(), "init creates nothing for a pair that does not exist");
    let (code, _, stderr) = run(&["hosting", "--target", "nginx", "--ci", "github", "--root", root]);
    assert_eq!(code, 2, "{stderr}");
}
