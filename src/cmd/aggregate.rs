//! `cohort aggregate`: turns an order export into anonymized counts (SPEC section 8).
//! Thin: parses the arguments, calls [`crate::aggregate::aggregate_file`], prints skipped
//! rows by line number (never their content) and writes the file.

use super::{CmdResult, Failure};
use crate::aggregate::{self, Format, Options, privacy};
use std::path::PathBuf;

/// At most this many skipped rows are listed one by one; the rest are counted.
const LISTED_SKIPS: u64 = 20;

/// The order export formats `--format` names (see [`crate::aggregate::Format`]).
// clap would print variant doc comments in `--help`, where the flag's own help describes
// the formats; `help = None` on each variant keeps them for rustdoc only.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    /// `shopify`: Shopify's orders export ([`Format::Shopify`]).
    #[value(help = None::<&str>)]
    Shopify,
    /// `snipcart`: Snipcart's orders export ([`Format::Snipcart`]).
    #[value(help = None::<&str>)]
    Snipcart,
    /// `paypal`: PayPal's activity download with cart details ([`Format::PayPal`]).
    #[value(help = None::<&str>)]
    Paypal,
    /// `foxy`: Foxy's transaction export ([`Format::Foxy`]).
    #[value(help = None::<&str>)]
    Foxy,
    /// `generic`: a CSV with `order_id`, `sku` and optionally `quantity` ([`Format::Generic`]).
    #[value(help = None::<&str>)]
    Generic,
}

/// The arguments of `cohort aggregate`.
#[derive(clap::Args, Debug)]
pub struct AggregateArgs {
    /// The order export (CSV)
    #[arg(long, value_name = "FILE.csv")]
    pub orders: PathBuf,
    /// Export format; detected from the header when absent (Shopify: `Name`, `Lineitem sku`; Snipcart: `Invoice Number`, `Item Id`; PayPal: `Transaction ID`, `Item ID`; Foxy: `transaction_id`, `product_code`)
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Leave out every count from fewer than K distinct orders
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(2..))]
    pub k: u64,
    /// Add Laplace noise with this privacy budget (and bound each order's contribution)
    #[arg(long, value_name = "E")]
    pub epsilon: Option<f64>,
    /// With --epsilon: distinct SKUs counted per order (the contribution bound M)
    #[arg(long, value_name = "M", default_value_t = privacy::DEFAULT_MAX_SKUS_PER_ORDER as u64,
          value_parser = clap::value_parser!(u64).range(1..=50))]
    pub max_skus_per_order: u64,
    /// Output file
    #[arg(short = 'o', long = "output", value_name = "FILE", default_value = "data/aggregates.toml")]
    pub output: PathBuf,
}

/// Runs `cohort aggregate`.
pub fn run(args: AggregateArgs) -> CmdResult {
    if let Some(e) = args.epsilon
        && !(e.is_finite() && e > 0.0)
    {
        return Err(Failure::usage("--epsilon must be a positive number, such as 1 or 0.5"));
    }
    let opts = Options {
        format: args.format.map(|f| match f {
            FormatArg::Shopify => Format::Shopify,
            FormatArg::Snipcart => Format::Snipcart,
            FormatArg::Paypal => Format::PayPal,
            FormatArg::Foxy => Format::Foxy,
            FormatArg::Generic => Format::Generic,
        }),
        k: args.k,
        epsilon: args.epsilon,
        max_skus_per_order: args.max_skus_per_order as usize,
    };
    let mut listed = 0u64;
    let name = args.orders.display().to_string();
    let mut on_skip = |s: &aggregate::Skipped| {
        listed += 1;
        if listed <= LISTED_SKIPS {
            eprintln!("{name}: line {}: skipped: {}", s.line, s.reason);
        }
    };
    let (agg, summary) = aggregate::aggregate_file(&args.orders, &opts, &mut on_skip).map_err(Failure::new)?;
    if summary.skipped_rows > LISTED_SKIPS {
        eprintln!(
            "{name}: {} more rows skipped (only the first {LISTED_SKIPS} are listed)",
            summary.skipped_rows - LISTED_SKIPS
        );
    }
    agg.write(&args.output).map_err(Failure::new)?;
    let noise = match agg.epsilon {
        Some(e) => format!(", Laplace noise with epsilon {e} (at most {} SKUs per order)", args.max_skus_per_order),
        None => String::new(),
    };
    eprintln!(
        "{}: {} export, {} rows used, {} skipped; wrote {} SKUs and {} pairs with k = {}{noise}",
        args.output.display(),
        summary.format.name(),
        summary.used_rows,
        summary.skipped_rows,
        agg.purchases.len(),
        agg.pairs.len(),
        agg.k,
    );
    Ok(())
}
