//! `cohort build`: builds the shop into a static site.

use super::{CmdResult, Failure};
use crate::build::{BuildOptions, build};
use std::path::PathBuf;

/// The arguments of `cohort build`.
#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// The shop folder (with shop.toml)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Where to write the site [default: ROOT/public]
    #[arg(short = 'o', long)]
    pub output_dir: Option<PathBuf>,
    /// Override base_url from shop.toml (e.g. for a preview deploy)
    #[arg(short = 'u', long)]
    pub base_url: Option<String>,
    /// Include products and pages marked draft = true
    #[arg(long)]
    pub drafts: bool,
    /// Worker threads [default: one per core]
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Replace a site with products even when the shop has none (refused otherwise, so an
    /// empty or missing products/ folder cannot empty a live shop by accident)
    #[arg(long)]
    pub allow_empty: bool,
}

/// Runs `cohort build`.
pub fn run(args: BuildArgs) -> CmdResult {
    let options = BuildOptions {
        root: args.root,
        output: args.output_dir,
        base_url: args.base_url,
        drafts: args.drafts,
        jobs: args.jobs,
        progress: true,
        allow_empty: args.allow_empty,
        exit_after: true,
    };
    match build(&options) {
        Ok(report) => {
            for w in &report.warnings {
                eprintln!("{w}");
            }
            let unchanged = if report.unchanged > 0 {
                format!(
                    " ({} rendered, {} unchanged since the last build)",
                    report.pages - report.unchanged,
                    report.unchanged
                )
            } else {
                String::new()
            };
            eprintln!(
                "Built {} products into {}: {} pages{unchanged}, {} cohort variants, {} fragments, {} static files in {} ms",
                report.products,
                report.output.display(),
                report.pages,
                report.variants,
                report.fragments,
                report.static_files,
                report.elapsed.as_millis()
            );
            if report.images > 0 {
                eprintln!(
                    "Images: {} published, {} processed, {} from the cache",
                    report.images,
                    report.images_decoded,
                    report.images - report.images_decoded
                );
            }
            Ok(())
        }
        Err(e) => Err(Failure::new(e.to_string())),
    }
}
