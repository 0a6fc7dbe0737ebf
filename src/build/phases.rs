//! What a build is doing, phase by phase. On a terminal each phase prints one line as it
//! ends (what it did, how many, how long), so a 100,000-product build shows where it is
//! instead of sitting silent; the rendering phase has its own progress bar. With
//! `COHORT_BUILD_TIMINGS` set, the same lines are printed whatever stderr is (for the
//! benchmarks in `bench/` and for finding what got slow).

use std::cell::Cell;
use std::io::IsTerminal;
use std::time::Instant;

/// The phase lines of one build.
pub struct Phases {
    on: bool,
    since: Cell<Instant>,
}

impl Phases {
    /// Prints when `progress` is asked for and stderr is a terminal, or when
    /// `COHORT_BUILD_TIMINGS` is set.
    pub fn new(progress: bool) -> Phases {
        let on = (progress && std::io::stderr().is_terminal()) || std::env::var_os("COHORT_BUILD_TIMINGS").is_some();
        Phases { on, since: Cell::new(Instant::now()) }
    }

    /// Prints nothing.
    pub fn quiet() -> Phases {
        Phases { on: false, since: Cell::new(Instant::now()) }
    }

    /// Ends the current phase: `what` it did (e.g. "read 100000 products"), with the time
    /// since the previous phase ended.
    pub fn done(&self, what: impl FnOnce() -> String) {
        let now = Instant::now();
        if self.on {
            let ms = now.duration_since(self.since.get()).as_millis();
            eprintln!("  {} ({ms} ms)", what());
        }
        self.since.set(now);
    }

    /// Whether phase lines are printed.
    pub fn shown(&self) -> bool {
        self.on
    }
}
