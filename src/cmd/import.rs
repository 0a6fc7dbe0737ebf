//! `cohort import shopify FILE.csv`: product files from a Shopify product export. Thin:
//! calls [`crate::import::shopify()`], prints warnings and errors with their line, and the
//! summary.

use super::{CmdResult, Failure};
use crate::import;
use std::path::PathBuf;

/// At most this many warnings (and errors) are listed one by one; the rest are counted.
const LISTED: usize = 50;

/// The arguments of `cohort import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// What to import from.
    #[command(subcommand)]
    pub source: Source,
}

/// The sources `cohort import` reads.
#[derive(clap::Subcommand, Debug)]
pub enum Source {
    /// Shopify's product export (Products > Export > CSV), either header dialect
    Shopify {
        /// The export
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
        /// The shop to import into (it needs a shop.toml)
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Replace product files that already exist
        #[arg(long)]
        force: bool,
    },
}

/// Runs `cohort import`.
pub fn run(args: ImportArgs) -> CmdResult {
    let Source::Shopify { file, root, force } = args.source;
    let name = file.display().to_string();
    let mut listed = 0usize;
    let mut on_warning = |p: &import::shopify::Problem| {
        listed += 1;
        if listed <= LISTED {
            eprintln!("warning: {name}:{}: {}", p.line, p.message);
        }
    };
    let options = import::Options { root: &root, file: &file, force };
    match import::shopify(&options, &mut on_warning) {
        Ok(s) => {
            if s.warnings > LISTED {
                eprintln!("({} more warnings not listed)", s.warnings - LISTED);
            }
            eprintln!(
                "Imported {} products ({} variants, {} images listed for you to copy in; none downloaded) into {} with {} warnings",
                s.products,
                s.variants,
                s.images,
                root.join("products").display(),
                s.warnings
            );
            Ok(())
        }
        Err(f) => {
            if let Some(m) = f.fatal {
                return Err(Failure::new(m));
            }
            let mut text = String::new();
            for p in f.errors.iter().take(LISTED) {
                text.push_str(&format!("error: {name}:{}: {}\n", p.line, p.message));
            }
            if f.errors.len() > LISTED {
                text.push_str(&format!("({} more errors not listed)\n", f.errors.len() - LISTED));
            }
            let n = f.errors.len().max(1);
            text.push_str(&format!("{n} problem{} found; nothing was written.", if n == 1 { "" } else { "s" }));
            Err(Failure::new(text))
        }
    }
}
