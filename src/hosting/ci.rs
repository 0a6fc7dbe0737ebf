//! Deploy files: a CI workflow that installs Cohort, checks and builds the shop and publishes it
//! (GitHub Actions or GitLab CI, to GitHub Pages, GitLab Pages, Netlify, Cloudflare Pages or
//! Vercel through their own CLIs), or, for a host that builds the shop itself, its build
//! configuration (Netlify's `netlify.toml`, with the `cohort` binary cached between builds).
//!
//! `cohort init DIR --ci PROVIDER [--deploy HOST]` and `cohort hosting --ci PROVIDER [--deploy
//! HOST]` write these files. Secrets are referred to by name only (`secrets.NETLIFY_AUTH_TOKEN`,
//! `$CLOUDFLARE_API_TOKEN`); no value is ever written. Every CLI is pinned, so a deploy does not
//! change under the merchant's feet. The workflows are checked by actionlint and by the
//! providers' JSON schemas in `tests/ci_workflows.rs`.

/// Who runs the build: a CI service, or the host itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Provider {
    /// GitHub Actions: `.github/workflows/deploy.yml`
    Github,
    /// GitLab CI: `.gitlab-ci.yml`
    Gitlab,
    /// Netlify builds the shop itself from the repository: `netlify.toml` (and a `package.json`
    /// for the cache plugin)
    Netlify,
}

/// Where the built site is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Deploy {
    /// GitHub Pages (GitHub Actions only): static files, no custom headers or cookie routing
    GithubPages,
    /// GitLab Pages (GitLab CI only): static files, no custom headers or cookie routing
    GitlabPages,
    /// Netlify, by `netlify deploy` (reads `_headers` and `_redirects`)
    Netlify,
    /// Cloudflare Pages, by `wrangler pages deploy`, with the cohort `_worker.js`
    Cloudflare,
    /// Vercel, by `vercel deploy --prebuilt` (Build Output API, cohort routes first)
    Vercel,
}

/// A file to write, relative to the shop folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiFile {
    /// Path relative to the shop folder, with `/` separators.
    pub path: &'static str,
    /// The file's contents.
    pub text: String,
}

/// The pinned versions the files install. Kept here so the guides, the files and the tests
/// agree.
pub const NETLIFY_CLI: &str = "17.38.1";
/// wrangler, for Cloudflare Pages (the version `tests/runtimes` tests the worker on).
pub const WRANGLER: &str = "4.9.1";
/// Vercel's CLI.
pub const VERCEL_CLI: &str = "39.4.2";
/// The Netlify build plugin that keeps the `cohort` binary between builds.
pub const NETLIFY_PLUGIN_CACHE: &str = "1.0.3";

impl Provider {
    /// The host a provider publishes to when none is named.
    pub fn default_deploy(self) -> Deploy {
        match self {
            Provider::Github => Deploy::GithubPages,
            Provider::Gitlab => Deploy::GitlabPages,
            Provider::Netlify => Deploy::Netlify,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Netlify => "netlify",
        }
    }
}

impl Deploy {
    fn name(self) -> &'static str {
        match self {
            Deploy::GithubPages => "github-pages",
            Deploy::GitlabPages => "gitlab-pages",
            Deploy::Netlify => "netlify",
            Deploy::Cloudflare => "cloudflare",
            Deploy::Vercel => "vercel",
        }
    }
}

/// What the merchant sets up once, by name, after the files are written (printed by the
/// commands that write them).
pub fn setup_steps(provider: Provider, deploy: Option<Deploy>) -> &'static str {
    match (provider, deploy.unwrap_or(provider.default_deploy())) {
        (Provider::Netlify, _) => {
            "Connect the repository in Netlify (Add new site → Import an existing project) and set its environment variable COHORT_GIT to Cohort's Git URL; netlify.toml sets the build."
        }
        (_, Deploy::GithubPages) => {
            "Set the repository variable COHORT_GIT to Cohort's Git URL, and in Settings → Pages set Source to \"GitHub Actions\"."
        }
        (_, Deploy::GitlabPages) => {
            "Set the CI/CD variable COHORT_GIT to Cohort's Git URL; the `pages` job publishes to GitLab Pages."
        }
        (Provider::Github, Deploy::Netlify) => {
            "Set the repository variable COHORT_GIT to Cohort's Git URL; add the repository secrets NETLIFY_AUTH_TOKEN and NETLIFY_SITE_ID."
        }
        (Provider::Github, Deploy::Cloudflare) => {
            "Set the repository variable COHORT_GIT to Cohort's Git URL; add the repository secrets CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID, and the variable CLOUDFLARE_PROJECT_NAME."
        }
        (Provider::Github, _) => {
            "Set the repository variable COHORT_GIT to Cohort's Git URL; add the repository secrets VERCEL_TOKEN, VERCEL_ORG_ID and VERCEL_PROJECT_ID."
        }
        (_, Deploy::Netlify) => {
            "Set the CI/CD variable COHORT_GIT to Cohort's Git URL; add the masked CI/CD variables NETLIFY_AUTH_TOKEN and NETLIFY_SITE_ID."
        }
        (_, Deploy::Cloudflare) => {
            "Set the CI/CD variable COHORT_GIT to Cohort's Git URL; add the masked CI/CD variables CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID, and the variable CLOUDFLARE_PROJECT_NAME."
        }
        (_, _) => {
            "Set the CI/CD variable COHORT_GIT to Cohort's Git URL; add the masked CI/CD variables VERCEL_TOKEN, VERCEL_ORG_ID and VERCEL_PROJECT_ID."
        }
    }
}

/// Writes `files` into `root`: all of them or none (an existing file is an error unless
/// `force`). Returns the paths written.
pub fn write(root: &std::path::Path, files: &[CiFile], force: bool) -> Result<Vec<std::path::PathBuf>, String> {
    let targets: Vec<std::path::PathBuf> = files.iter().map(|f| root.join(f.path)).collect();
    let existing: Vec<String> =
        targets.iter().filter(|t| t.exists()).map(|t| format!("{} already exists", t.display())).collect();
    if !existing.is_empty() && !force {
        return Err(format!("error: {}\n  = help: move it away, or pass --force to replace it", existing.join("; ")));
    }
    for (file, target) in files.iter().zip(&targets) {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("error: cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(target, &file.text).map_err(|e| format!("error: cannot write {}: {e}", target.display()))?;
    }
    Ok(targets)
}

/// The files for `provider` publishing to `deploy` (the provider's default when `None`), or
/// a message saying why that pair does not exist and what to use instead.
pub fn files(provider: Provider, deploy: Option<Deploy>) -> Result<Vec<CiFile>, String> {
    let deploy = deploy.unwrap_or(provider.default_deploy());
    let version = env!("CARGO_PKG_VERSION");
    let fill = |t: &str| {
        t.replace("@VERSION@", version)
            .replace("@NETLIFY_CLI@", NETLIFY_CLI)
            .replace("@WRANGLER@", WRANGLER)
            .replace("@VERCEL_CLI@", VERCEL_CLI)
            .replace("@PLUGIN_CACHE@", NETLIFY_PLUGIN_CACHE)
            .replace("@CI@", provider.name())
            .replace("@DEPLOY@", deploy.name())
    };
    match (provider, deploy) {
        (Provider::Github, Deploy::GitlabPages) => {
            Err("error: GitLab Pages is published from GitLab CI\n  = help: use `--ci gitlab --deploy gitlab-pages`, or `--ci github --deploy github-pages`".into())
        }
        (Provider::Gitlab, Deploy::GithubPages) => {
            Err("error: GitHub Pages is published from GitHub Actions\n  = help: use `--ci github --deploy github-pages`, or `--ci gitlab --deploy gitlab-pages`".into())
        }
        (Provider::Netlify, Deploy::Netlify) => Ok(vec![
            CiFile { path: "netlify.toml", text: fill(NETLIFY_TOML) },
            CiFile { path: "package.json", text: fill(NETLIFY_PACKAGE_JSON) },
        ]),
        (Provider::Netlify, _) => Err(
            "error: `--ci netlify` means Netlify builds the shop itself, so it publishes to Netlify only\n  = help: drop `--deploy`, or build in CI with `--ci github` or `--ci gitlab` and `--deploy HOST`"
                .into(),
        ),
        (Provider::Github, _) => {
            let steps = match deploy {
                Deploy::GithubPages => GITHUB_PAGES,
                Deploy::Netlify => GITHUB_NETLIFY,
                Deploy::Cloudflare => GITHUB_CLOUDFLARE,
                _ => GITHUB_VERCEL,
            };
            Ok(vec![CiFile { path: ".github/workflows/deploy.yml", text: fill(&format!("{GITHUB_HEAD}{steps}")) }])
        }
        (Provider::Gitlab, _) => {
            let jobs = match deploy {
                Deploy::GitlabPages => GITLAB_PAGES,
                Deploy::Netlify => GITLAB_NETLIFY,
                Deploy::Cloudflare => GITLAB_CLOUDFLARE,
                _ => GITLAB_VERCEL,
            };
            Ok(vec![CiFile { path: ".gitlab-ci.yml", text: fill(&format!("{GITLAB_HEAD}{jobs}")) }])
        }
    }
}

const GITHUB_HEAD: &str = r#"# Written by `cohort init --ci @CI@ --deploy @DEPLOY@` (Cohort @VERSION@); see the deploy guide
# in Cohort's documentation. On every push to main: install Cohort (cached), check the shop,
# build it and publish it. Secrets are read by name from the repository's settings.
name: Deploy the shop

on:
  push:
    branches: [main]
  workflow_dispatch:

permissions:
  contents: read

concurrency:
  group: deploy
  cancel-in-progress: false

env:
  # Cohort is installed from its Git repository (the name `cohort` on crates.io belongs to
  # another project): set the repository variable COHORT_GIT to its URL.
  COHORT_GIT: ${{ vars.COHORT_GIT }}
  COHORT_VERSION: "@VERSION@"

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - name: Restore the cohort binary
        id: cohort-cache
        uses: actions/cache@v5
        with:
          path: ~/.cargo/bin/cohort
          key: cohort-${{ runner.os }}-${{ env.COHORT_VERSION }}
      - name: Install Cohort
        if: steps.cohort-cache.outputs.cache-hit != 'true'
        run: |
          if [ -z "$COHORT_GIT" ]; then
            echo "::error::Set the repository variable COHORT_GIT to the Git URL of Cohort"
            exit 1
          fi
          cargo install --locked --git "$COHORT_GIT" --tag "v$COHORT_VERSION" cohort
      - name: Check the shop
        run: cohort check
"#;

const GITHUB_PAGES: &str = r#"      - name: Find the Pages address
        id: pages
        uses: actions/configure-pages@v6
      - name: Build
        env:
          BASE_URL: ${{ steps.pages.outputs.base_url }}
        run: cohort build --base-url "$BASE_URL/"
      - uses: actions/upload-pages-artifact@v4
        with:
          path: public

  deploy:
    needs: build
    runs-on: ubuntu-latest
    permissions:
      pages: write
      id-token: write
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - name: Publish on GitHub Pages
        id: deployment
        uses: actions/deploy-pages@v5
"#;

const GITHUB_NETLIFY: &str = r#"      - name: Build
        run: cohort build
      - name: Publish on Netlify
        env:
          NETLIFY_AUTH_TOKEN: ${{ secrets.NETLIFY_AUTH_TOKEN }}
          NETLIFY_SITE_ID: ${{ secrets.NETLIFY_SITE_ID }}
        run: npx --yes netlify-cli@@NETLIFY_CLI@ deploy --dir public --prod
"#;

const GITHUB_CLOUDFLARE: &str = r#"      - name: Build
        run: |
          cohort build
          cohort hosting --target cloudflare > public/_worker.js
          # Pages' _redirects has no conditions: the worker routes the cohort cookie instead.
          sed -i '/ Cookie=cohort_/d' public/_redirects
      - name: Publish on Cloudflare Pages
        env:
          CLOUDFLARE_API_TOKEN: ${{ secrets.CLOUDFLARE_API_TOKEN }}
          CLOUDFLARE_ACCOUNT_ID: ${{ secrets.CLOUDFLARE_ACCOUNT_ID }}
          PROJECT: ${{ vars.CLOUDFLARE_PROJECT_NAME }}
        run: npx --yes wrangler@@WRANGLER@ pages deploy public --project-name "$PROJECT" --branch main
"#;

const GITHUB_VERCEL: &str = r#"      - name: Build
        run: |
          cohort build
          cohort hosting --target vercel > vercel-routes.json
          rm -rf .vercel/output
          mkdir -p .vercel/output
          cp -R public .vercel/output/static
          # Build Output API: the cohort routes run before the filesystem.
          node -e 'const fs = require("fs"); const { routes } = JSON.parse(fs.readFileSync("vercel-routes.json", "utf8")); fs.writeFileSync(".vercel/output/config.json", JSON.stringify({ version: 3, routes }, null, 2));'
      - name: Publish on Vercel
        env:
          VERCEL_TOKEN: ${{ secrets.VERCEL_TOKEN }}
          VERCEL_ORG_ID: ${{ secrets.VERCEL_ORG_ID }}
          VERCEL_PROJECT_ID: ${{ secrets.VERCEL_PROJECT_ID }}
        run: npx --yes vercel@@VERCEL_CLI@ deploy --prebuilt --prod --token "$VERCEL_TOKEN"
"#;

const GITLAB_HEAD: &str = r#"# Written by `cohort init --ci @CI@ --deploy @DEPLOY@` (Cohort @VERSION@); see the deploy guide
# in Cohort's documentation. On every push to the default branch: install Cohort (cached),
# check the shop, build it and publish it. Secrets are CI/CD variables (masked), read by name.
stages:
  - build
  - deploy

variables:
  COHORT_VERSION: "@VERSION@"

build:
  stage: build
  image: rust:1
  variables:
    CARGO_INSTALL_ROOT: "$CI_PROJECT_DIR/.cohort"
  cache:
    key: "cohort-$COHORT_VERSION"
    paths:
      - .cohort/
  script:
    # COHORT_GIT: a CI/CD variable with the Git URL of Cohort (the name `cohort` on crates.io
    # belongs to another project).
    - |
      if [ ! -x .cohort/bin/cohort ]; then
        test -n "$COHORT_GIT" || { echo "Set the CI/CD variable COHORT_GIT to the Git URL of Cohort"; exit 1; }
        cargo install --locked --git "$COHORT_GIT" --tag "v$COHORT_VERSION" cohort
      fi
    - export PATH="$CI_PROJECT_DIR/.cohort/bin:$PATH"
    - cohort check
"#;

const GITLAB_PAGES: &str = r#"    - cohort build --base-url "$CI_PAGES_URL/"
  artifacts:
    paths:
      - public

pages:
  stage: deploy
  image: alpine:3
  needs: [build]
  script:
    - test -f public/index.html
  artifacts:
    paths:
      - public
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
"#;

const GITLAB_NETLIFY: &str = r#"    - cohort build
  artifacts:
    paths:
      - public

deploy:
  stage: deploy
  image: node:20
  needs: [build]
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  # NETLIFY_AUTH_TOKEN and NETLIFY_SITE_ID: masked CI/CD variables.
  script:
    - npx --yes netlify-cli@@NETLIFY_CLI@ deploy --dir public --prod
"#;

const GITLAB_CLOUDFLARE: &str = r#"    - cohort build
    - cohort hosting --target cloudflare > public/_worker.js
    # Pages' _redirects has no conditions: the worker routes the cohort cookie instead.
    - sed -i '/ Cookie=cohort_/d' public/_redirects
  artifacts:
    paths:
      - public

deploy:
  stage: deploy
  image: node:20
  needs: [build]
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  # CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID: masked CI/CD variables;
  # CLOUDFLARE_PROJECT_NAME: a plain one.
  script:
    - npx --yes wrangler@@WRANGLER@ pages deploy public --project-name "$CLOUDFLARE_PROJECT_NAME" --branch main
"#;

const GITLAB_VERCEL: &str = r#"    - cohort build
    - cohort hosting --target vercel > vercel-routes.json
  artifacts:
    paths:
      - public
      - vercel-routes.json

deploy:
  stage: deploy
  image: node:20
  needs: [build]
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  # VERCEL_TOKEN, VERCEL_ORG_ID, VERCEL_PROJECT_ID: masked CI/CD variables.
  script:
    - rm -rf .vercel/output && mkdir -p .vercel/output && cp -R public .vercel/output/static
    # Build Output API: the cohort routes run before the filesystem.
    - |
      node -e 'const fs = require("fs"); const { routes } = JSON.parse(fs.readFileSync("vercel-routes.json", "utf8")); fs.writeFileSync(".vercel/output/config.json", JSON.stringify({ version: 3, routes }, null, 2));'
    - npx --yes vercel@@VERCEL_CLI@ deploy --prebuilt --prod --token "$VERCEL_TOKEN"
"#;

const NETLIFY_TOML: &str = r#"# Written by `cohort init --ci netlify` (Cohort @VERSION@); see the deploy guide in Cohort's
# documentation. Netlify builds the shop on every push: it installs Cohort once (Rust from
# rustup when the build image has none), keeps the binary in .cohort/ between builds with
# netlify-plugin-cache, and publishes public/ with the _headers and _redirects the build wrote.
# Set the site's environment variable COHORT_GIT to the Git URL of Cohort (the name `cohort`
# on crates.io belongs to another project).
[build]
  publish = "public"
  command = """
    set -e
    if [ ! -x .cohort/bin/cohort ]; then
      if ! command -v cargo >/dev/null; then
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
        . "$HOME/.cargo/env"
      fi
      test -n "$COHORT_GIT" || { echo "Set the environment variable COHORT_GIT to the Git URL of Cohort"; exit 1; }
      cargo install --locked --root .cohort --git "$COHORT_GIT" --tag "v$COHORT_VERSION" cohort
    fi
    .cohort/bin/cohort check
    .cohort/bin/cohort build
  """

[build.environment]
  COHORT_VERSION = "@VERSION@"

[[plugins]]
  package = "netlify-plugin-cache"
  [plugins.inputs]
    paths = [".cohort"]
"#;

const NETLIFY_PACKAGE_JSON: &str = r#"{
  "private": true,
  "description": "Netlify's build plugins for this shop (written by `cohort init --ci netlify`)",
  "devDependencies": {
    "netlify-plugin-cache": "@PLUGIN_CACHE@"
  }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_either_has_files_or_says_what_to_use() {
        for p in [Provider::Github, Provider::Gitlab, Provider::Netlify] {
            for d in [Deploy::GithubPages, Deploy::GitlabPages, Deploy::Netlify, Deploy::Cloudflare, Deploy::Vercel] {
                match files(p, Some(d)) {
                    Ok(files) => {
                        assert!(!files.is_empty());
                        for f in files {
                            for hole in [
                                "@VERSION@",
                                "@NETLIFY_CLI@",
                                "@WRANGLER@",
                                "@VERCEL_CLI@",
                                "@PLUGIN_CACHE@",
                                "@CI@",
                                "@DEPLOY@",
                            ] {
                                assert!(!f.text.contains(hole), "{} keeps {hole}", f.path);
                            }
                        }
                    }
                    Err(e) => assert!(e.contains("help:"), "{e}"),
                }
            }
        }
    }
}
