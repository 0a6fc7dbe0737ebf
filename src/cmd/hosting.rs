//! `cohort hosting --target HOST`: prints the routing and header configuration for a host,
//! from a fresh build of the shop (into a temporary folder; the output folder is untouched).

use super::{CmdResult, Failure};
use crate::build::{BuildOptions, load, write_site};
use crate::hosting::{HostConfig, TARGETS};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct HostingArgs {
    /// netlify, cloudflare, vercel, nginx or caddy
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(TARGETS))]
    pub target: String,
    /// The shop folder (with shop.toml)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Where the built site will be served from [default: ROOT/public]
    #[arg(short = 'o', long)]
    pub output_dir: Option<PathBuf>,
}

pub fn run(args: HostingArgs) -> CmdResult {
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
    match config.render(&args.target) {
        Some(text) => {
            print!("{text}");
            Ok(())
        }
        None => Err(Failure::usage(format!("error: unknown target {}", args.target))),
    }
}
