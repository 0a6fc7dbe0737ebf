//! `cohort hosting --target HOST`: prints the routing and header configuration for a host,
//! from a fresh build of the shop (into a temporary folder; the output folder is untouched).
//! `cohort hosting --ci PROVIDER [--deploy HOST]` writes a deploy workflow into the shop
//! instead (the same files as `cohort init --ci`).

use super::{CmdResult, Failure};
use crate::build::{BuildOptions, load, write_site};
use crate::hosting::ci::{self, Deploy, Provider};
use crate::hosting::{HostConfig, TARGETS};
use std::path::PathBuf;

/// The arguments of `cohort hosting`.
#[derive(clap::Args, Debug)]
pub struct HostingArgs {
    /// netlify, cloudflare, vercel, nginx or caddy
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(TARGETS), required_unless_present = "ci", conflicts_with = "ci")]
    pub target: Option<String>,
    /// Write a deploy workflow into the shop instead: github, gitlab or netlify (see `cohort init --ci`)
    #[arg(long, value_enum)]
    pub ci: Option<Provider>,
    /// Where the workflow publishes [default: github-pages for github, gitlab-pages for gitlab]
    #[arg(long, value_enum, requires = "ci")]
    pub deploy: Option<Deploy>,
    /// With --ci: replace workflow files that already exist
    #[arg(long, requires = "ci")]
    pub force: bool,
    /// The shop folder (with shop.toml)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Where the built site will be served from [default: ROOT/public]
    #[arg(short = 'o', long)]
    pub output_dir: Option<PathBuf>,
    /// A site folder `cohort personalize` changed: its `_headers` and `_redirects` (with the
    /// policy personalize computed for that site) are translated, and it is served from there
    #[arg(long, conflicts_with = "output_dir")]
    pub site: Option<PathBuf>,
}

/// Runs `cohort hosting`.
pub fn run(args: HostingArgs) -> CmdResult {
    if let Some(provider) = args.ci {
        return write_ci(&args, provider);
    }
    let Some(target) = args.target.clone() else {
        return Err(Failure::usage("error: name a host with --target, or a CI with --ci"));
    };
    if let Some(site) = &args.site {
        return from_site(&args, site, &target);
    }
    let options = BuildOptions { root: args.root.clone(), ..BuildOptions::default() };
    let prepared = load(&options).map_err(|e| Failure::new(e.to_string()))?;
    let tmp = tempfile::tempdir().map_err(|e| Failure::new(format!("error: cannot create a temporary folder: {e}")))?;
    let out = tmp.path().join("site");
    write_site(&prepared, &out, false).map_err(|e| Failure::new(e.to_string()))?;
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap_or_default();
    let site_dir = args.output_dir.unwrap_or_else(|| args.root.join("public"));
    let site_dir = std::path::absolute(&site_dir).unwrap_or(site_dir);
    let cohorts = prepared.shop.site.config.cohorts.iter().map(|c| c.id.get_ref().clone()).collect();
    let config = HostConfig::new(
        &read(crate::output::layout::HEADERS),
        &read(crate::output::layout::REDIRECTS),
        cohorts,
        &prepared.shop.site.base_path,
        &site_dir,
    );
    match config.render(&target) {
        Some(text) => {
            print!("{text}");
            Ok(())
        }
        None => Err(Failure::usage(format!("error: unknown target {target}"))),
    }
}

/// Writes the deploy workflow for `provider` into the shop (all files or none).
fn write_ci(args: &HostingArgs, provider: Provider) -> CmdResult {
    let files = ci::files(provider, args.deploy).map_err(Failure::usage)?;
    if !args.root.join("shop.toml").is_file() {
        return Err(Failure::new(format!(
            "error: {} has no shop.toml\n  = help: pass the shop folder with --root, or create a shop with `cohort init DIR --ci ...`",
            args.root.display()
        )));
    }
    for path in ci::write(&args.root, &files, args.force).map_err(Failure::new)? {
        println!("Wrote {}", path.display());
    }
    println!("Next: {}", ci::setup_steps(provider, args.deploy));
    Ok(())
}

/// `--site DIR`: the files personalize wrote, translated as they are.
fn from_site(args: &HostingArgs, dir: &std::path::Path, target: &str) -> CmdResult {
    let site = crate::config::Config::load(&args.root, None).map_err(|d| Failure::new(d.to_string()))?;
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).map_err(|e| {
            Failure::new(format!(
                "error: cannot read {}: {e}\n  = hint: run `cohort personalize --site {}` first",
                dir.join(name).display(),
                dir.display()
            ))
        })
    };
    let (headers, redirects) = (read("_headers")?, read("_redirects")?);
    let site_dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let cohorts = site.config.cohorts.iter().map(|c| c.id.get_ref().clone()).collect();
    let config = HostConfig::new(&headers, &redirects, cohorts, &site.base_path, &site_dir);
    match config.render(target) {
        Some(text) => {
            print!("{text}");
            Ok(())
        }
        None => Err(Failure::usage(format!("error: unknown target {target}"))),
    }
}
