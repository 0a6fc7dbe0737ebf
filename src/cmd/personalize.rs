//! `cohort personalize`: plugin mode on another generator's output (see `crate::personalize`).

use super::{CmdResult, Failure};
use crate::personalize::{self, Error, Options};
use std::path::PathBuf;

/// The arguments of `cohort personalize`.
#[derive(clap::Args, Debug)]
pub struct PersonalizeArgs {
    /// The other generator's output folder (Hugo's public/, Zola's public/, Eleventy's _site/)
    #[arg(long)]
    pub site: PathBuf,
    /// The shop folder with shop.toml (cohorts, privacy, recommendations)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// The other generator's product files, e.g. 'content/products/*.md' (TOML front matter);
    /// default: the shop's own products/
    #[arg(long)]
    pub products: Option<String>,
}

/// Runs `cohort personalize`.
pub fn run(args: PersonalizeArgs) -> CmdResult {
    let options = Options { site: args.site, root: args.root, products: args.products };
    match personalize::personalize(&options) {
        Ok(report) => {
            if !report.audit.findings.is_empty() {
                eprint!("{}", report.audit.text());
            }
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
            println!(
                "personalized {} pages of {}: {} slots, {} fragments, {} variants, {} products; {} files written, {} removed in {:.2?}",
                report.pages,
                options.site.display(),
                report.slots,
                report.fragments,
                report.variants,
                report.products,
                report.written,
                report.removed,
                report.elapsed
            );
            Ok(())
        }
        Err(e @ Error::Refused(_)) | Err(e @ Error::Invalid(_)) | Err(e @ Error::Io(_)) => {
            Err(Failure::new(e.to_string()))
        }
    }
}
