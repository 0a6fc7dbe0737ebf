//! `cohort init DIR`: a new shop from the built-in default theme's starter files, so a
//! merchant has something that builds before writing a single product.

use super::{CmdResult, Failure};
use crate::hosting::ci::{self, Deploy, Provider};
use std::path::PathBuf;

/// The arguments of `cohort init`.
#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// The folder to create (must not exist, or be empty)
    pub dir: PathBuf,
    /// Also write a deploy workflow: github (.github/workflows/deploy.yml), gitlab
    /// (.gitlab-ci.yml) or netlify (netlify.toml: Netlify builds the shop itself)
    #[arg(long, value_enum)]
    pub ci: Option<Provider>,
    /// Where the workflow publishes [default: github-pages for github, gitlab-pages for gitlab]
    #[arg(long, value_enum, requires = "ci")]
    pub deploy: Option<Deploy>,
}

/// Runs `cohort init`.
pub fn run(args: InitArgs) -> CmdResult {
    let dir = &args.dir;
    if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(Failure::new(format!(
            "error: {} already exists and is not empty\n  = help: choose a new folder name, e.g. `cohort init my-shop`",
            dir.display()
        )));
    }
    // Before anything is written: a --ci/--deploy pair that does not exist creates no folder.
    let ci_files = match args.ci {
        Some(provider) => Some(ci::files(provider, args.deploy).map_err(Failure::usage)?),
        None => None,
    };
    let files = crate::theme::builtin::files("default");
    let mut written = 0;
    for (path, source) in &files {
        let Some(rel) = path.strip_prefix("starter/") else {
            continue;
        };
        // Stored without its dot so that it does not apply to the theme folder itself.
        let rel = if rel == "gitignore" { ".gitignore" } else { rel };
        let target = dir.join(rel);
        let bytes =
            source.bytes().map_err(|e| Failure::new(format!("error: cannot read the starter file {rel}: {e}")))?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::new(format!("error: cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&target, &bytes)
            .map_err(|e| Failure::new(format!("error: cannot write {}: {e}", target.display())))?;
        written += 1;
    }
    for extra in ["static", "templates"] {
        std::fs::create_dir_all(dir.join(extra))
            .map_err(|e| Failure::new(format!("error: cannot create {extra}/: {e}")))?;
    }
    if let Some(ci_files) = &ci_files {
        written += ci::write(dir, ci_files, false).map_err(Failure::new)?.len();
    }
    println!("Created a new shop in {} ({written} files).", dir.display());
    println!("Next: cohort serve --root {}", dir.display());
    println!("Then edit shop.toml and products/ there; its README.md lists the steps to publishing.");
    if let (Some(provider), Some(ci_files)) = (args.ci, &ci_files) {
        let names: Vec<&str> = ci_files.iter().map(|f| f.path).collect();
        println!("Deploy: {} ({}).", names.join(", "), ci::setup_steps(provider, args.deploy));
    }
    Ok(())
}
