//! One module per subcommand. Each is thin: it turns arguments into a call to the library
//! and a [`Failure`] into an exit status.

pub mod aggregate;
pub mod build;
pub mod check;
pub mod consent;
pub mod consent_worker;
pub mod hosting;
pub mod import;
pub mod init;
pub mod personalize;
pub mod serve;

/// A subcommand that did not succeed: what to print on stderr and the exit status.
#[derive(Debug)]
pub struct Failure {
    /// Printed on stderr (nothing when empty).
    pub message: String,
    /// The exit status.
    pub code: u8,
}

impl Failure {
    /// A problem in the shop's files, a failed check or a runtime error: exit status 1.
    pub fn new(message: impl Into<String>) -> Self {
        Failure { message: message.into(), code: 1 }
    }
    /// Wrong usage that clap could not catch: exit status 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure { message: message.into(), code: 2 }
    }
}

/// What a subcommand returns.
pub type CmdResult = Result<(), Failure>;
