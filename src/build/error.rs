//! Why a build wrote nothing: the one error type of `cohort build`, `check`, `serve` and
//! `hosting`, with the structure (diagnostics, render errors, the failed path) kept to the
//! end so each command can print or overlay it.

use crate::diagnostics::Diagnostics;
use crate::render::RenderError;
use std::path::PathBuf;

/// Why a build wrote nothing (the previous output is left untouched).
#[derive(Debug)]
pub enum BuildError {
    /// Problems in the shop's files, each with its place.
    Invalid(Diagnostics),
    /// Template or guard failures while rendering, each distinct problem once with the
    /// pages it stopped.
    Render(Vec<RenderError>),
    /// A file or folder could not be read or written.
    Io(IoError),
    /// A state Cohort should never reach (a bug), reported rather than a panic.
    Internal(String),
}

/// A failed read or write: what was being done, to which path, and the system's reason.
#[derive(Debug)]
pub struct IoError {
    /// What failed, e.g. "cannot write".
    pub action: &'static str,
    /// The file or folder (empty when there is none, e.g. for worker threads).
    pub path: PathBuf,
    /// The reason the system gave.
    pub source: std::io::Error,
}

impl IoError {
    /// `action` on `path` failed with `source`.
    pub fn new(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> IoError {
        IoError { action, path: path.into(), source }
    }
}

impl std::fmt::Display for IoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.as_os_str().is_empty() {
            write!(f, "{}: {}", self.action, self.source)
        } else {
            write!(f, "{} {}: {}", self.action, self.path.display(), self.source)
        }
    }
}

impl std::error::Error for IoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl BuildError {
    /// `action` on `path` failed with `source`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> BuildError {
        BuildError::Io(IoError::new(action, path, source))
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Io(e) => Some(e),
            BuildError::Render(errors) => errors.first().map(|e| e as &(dyn std::error::Error + 'static)),
            _ => None,
        }
    }
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Invalid(d) => write!(f, "{d}"),
            BuildError::Render(errors) => {
                for e in errors.iter().take(20) {
                    writeln!(f, "error: {}\n", crate::diagnostics::cut_long(&e.to_string()))?;
                }
                if errors.len() > 20 {
                    writeln!(f, "... and {} more", errors.len() - 20)?;
                }
                write!(f, "the build failed; the previous output was left untouched.")
            }
            BuildError::Io(e) => {
                let text = e.to_string();
                write!(f, "error: {}\nthe previous output was left untouched.", crate::diagnostics::cut_long(&text))
            }
            BuildError::Internal(message) => write!(
                f,
                "error: internal error in Cohort: {message}\nthis is a bug; the previous output was left untouched."
            ),
        }
    }
}
