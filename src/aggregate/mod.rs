//! Anonymized aggregates from order exports (SPEC section 8): purchases per SKU and orders
//! per pair of SKUs, with a k threshold and optional Laplace noise.
//!
//! Shaped for a large export and for privacy:
//!
//! * **Streaming, memory bounded by SKUs and pairs.** Rows are read one at a time; the only
//!   per-order state is the SKU list of the order being read. Order numbers are never
//!   stored as text except for orders whose rows are not contiguous (see below).
//! * **Two passes, so non-contiguous orders are still counted once.** Shopify writes an
//!   order's line items on consecutive rows, but a hand-edited or concatenated file may not.
//!   Pass 1 reads only the order column and keeps a set of 64-bit keyed hashes of order
//!   numbers (8 bytes per order, random key per run, never written anywhere) to find orders
//!   that reappear after another order. Pass 2 counts contiguous orders as they stream by and
//!   buffers only the rows of the reappearing ones, merging them by order number.
//! * **Counting.** `purchases[sku]` = number of distinct orders containing the SKU (not the
//!   sum of quantities: then every count is exactly "how many orders", which is what k and
//!   the noise's sensitivity are about). `pairs[(a, b)]` = number of distinct orders
//!   containing both. The quantity column is used only to ignore lines with quantity 0.
//!   Without `--epsilon`, pairs are taken from the first [`PAIR_SKUS_PER_ORDER`] distinct SKUs
//!   of an order (a wholesale order of 1,000 lines would otherwise add 500,000 pairs); with
//!   `--epsilon`, an order contributes only its first `max_skus_per_order` distinct SKUs, see
//!   [`privacy`].
//! * **Privacy.** See [`privacy`]: k threshold, contribution bound, Laplace noise.

pub mod file;
pub mod privacy;
pub mod reader;

pub use file::{Aggregates, Pair, load};
pub use reader::Format;

use crate::int_hash::{IntMap, IntSet};
use csv::ByteRecord;
use reader::{Columns, Row};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;
use std::path::Path;

/// Without `--epsilon`, pairs are formed among the first this many distinct SKUs of an order.
pub const PAIR_SKUS_PER_ORDER: usize = 100;

/// What to compute.
#[derive(Debug, Clone)]
pub struct Options {
    /// `None`: detect from the header.
    pub format: Option<Format>,
    /// Counts from fewer than `k` distinct orders are left out.
    pub k: u64,
    /// Adds Laplace noise with this budget and bounds each order's contribution.
    pub epsilon: Option<f64>,
    /// The contribution bound M used with `epsilon`.
    pub max_skus_per_order: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { format: None, k: 10, epsilon: None, max_skus_per_order: privacy::DEFAULT_MAX_SKUS_PER_ORDER }
    }
}

/// A row that was not used: its line number (1-based, the line where the record starts)
/// and why. Never the row's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The line where the record starts.
    pub line: u64,
    /// Why it was skipped, in fixed words.
    pub reason: &'static str,
}

/// What happened, for the command's closing message (exact figures, shown only to the
/// person running the command, never written to the file).
#[derive(Debug, Clone)]
pub struct Summary {
    /// The export's format (given or detected).
    pub format: Format,
    /// Data rows read.
    pub rows: u64,
    /// Rows counted.
    pub used_rows: u64,
    /// Rows skipped (see [`Skipped`]).
    pub skipped_rows: u64,
    /// Distinct orders.
    pub orders: u64,
    /// Orders whose rows were not contiguous and were merged.
    pub merged_orders: u64,
}

type PairMap = IntMap<u64, u32>;

struct Counter {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    purchases: Vec<u64>,
    /// Per SKU: the last dedup round that saw it (for O(1) de-duplication inside an order).
    stamp: Vec<u64>,
    round: u64,
    pairs: PairMap,
    orders: u64,
    purchase_limit: usize,
    pair_limit: usize,
    sorted: Vec<u32>,
}

impl Counter {
    fn new(opts: &Options) -> Self {
        let (purchase_limit, pair_limit) = match opts.epsilon {
            Some(_) => (opts.max_skus_per_order, opts.max_skus_per_order),
            None => (usize::MAX, PAIR_SKUS_PER_ORDER),
        };
        Counter {
            ids: HashMap::new(),
            names: Vec::new(),
            purchases: Vec::new(),
            stamp: Vec::new(),
            round: 0,
            pairs: PairMap::default(),
            orders: 0,
            purchase_limit,
            pair_limit,
            sorted: Vec::new(),
        }
    }

    fn intern(&mut self, sku: &str) -> u32 {
        if let Some(&id) = self.ids.get(sku) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(sku.into());
        self.ids.insert(sku.into(), id);
        self.purchases.push(0);
        self.stamp.push(0);
        id
    }

    /// Removes repeated SKUs, keeping the first appearance order.
    fn dedup(&mut self, skus: &mut Vec<u32>) {
        self.round += 1;
        let round = self.round;
        skus.retain(|&s| {
            let seen = self.stamp[s as usize] == round;
            self.stamp[s as usize] = round;
            !seen
        });
    }

    /// Counts one order given its distinct SKUs in file order.
    fn add_order(&mut self, skus: &[u32]) {
        if skus.is_empty() {
            return;
        }
        self.orders += 1;
        for &s in &skus[..skus.len().min(self.purchase_limit)] {
            self.purchases[s as usize] += 1;
        }
        let take = skus.len().min(self.pair_limit);
        self.sorted.clear();
        self.sorted.extend_from_slice(&skus[..take]);
        self.sorted.sort_unstable();
        for (i, &a) in self.sorted.iter().enumerate() {
            for &b in &self.sorted[i + 1..] {
                *self.pairs.entry((u64::from(a) << 32) | u64::from(b)).or_insert(0) += 1;
            }
        }
    }
}

fn open(path: &Path) -> Result<csv::Reader<std::fs::File>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: cannot open: {e}", path.display()))?;
    Ok(csv::ReaderBuilder::new().has_headers(false).flexible(true).buffer_capacity(1 << 16).from_reader(file))
}

fn next(reader: &mut csv::Reader<std::fs::File>, rec: &mut ByteRecord, path: &Path) -> Result<bool, String> {
    reader.read_byte_record(rec).map_err(|e| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        let what = match e.kind() {
            csv::ErrorKind::Io(io) => io.to_string(),
            _ => "malformed CSV".to_string(),
        };
        format!("{}: line {line}: cannot read: {what}", path.display())
    })
}

/// Fails when the file's last record, which starts at `start`, ends inside an unclosed quote.
fn check_quotes_closed(path: &Path, start: &csv::Position) -> Result<(), String> {
    use std::io::{Seek, SeekFrom};
    let cannot = |e: std::io::Error| format!("{}: cannot read: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    file.seek(SeekFrom::Start(start.byte())).map_err(cannot)?;
    match reader::unclosed_quote(file, start.line()).map_err(cannot)? {
        None => Ok(()),
        Some(line) => Err(format!(
            "{}: line {line}: a quoted field opens here and is never closed, so every row after it \
             would be read as part of it; nothing written. Close the quote (a quote inside a quoted \
             field is written twice: \"\")",
            path.display()
        )),
    }
}

fn line_of(rec: &ByteRecord) -> u64 {
    rec.position().map(|p| p.line()).unwrap_or(0)
}

/// Reads the header and resolves the columns.
fn header(
    reader: &mut csv::Reader<std::fs::File>,
    path: &Path,
    format: Option<Format>,
) -> Result<(Format, Columns), String> {
    let mut head = ByteRecord::new();
    if !next(reader, &mut head, path)? || head.iter().all(|f| f.trim_ascii().is_empty()) {
        return Err(format!("{}: the file is empty; expected a CSV order export with a header row", path.display()));
    }
    let format = format.unwrap_or_else(|| reader::detect(&head));
    let cols = reader::columns(&head, format).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((format, cols))
}

/// Pass 1: the keyed hashes of orders whose rows are not contiguous.
fn find_split_orders(
    path: &Path,
    cols: &Columns,
    keyed: &std::collections::hash_map::RandomState,
) -> Result<HashSet<u64>, String> {
    let mut reader = open(path)?;
    let mut rec = ByteRecord::new();
    next(&mut reader, &mut rec, path)?; // header
    let mut seen: IntSet<u64> = IntSet::default();
    let mut split = HashSet::new();
    let mut current: Option<u64> = None;
    while next(&mut reader, &mut rec, path)? {
        if rec.len() != cols.width {
            continue;
        }
        let order = rec.get(cols.order).unwrap_or_default().trim_ascii();
        if order.is_empty() {
            continue;
        }
        let h = keyed.hash_one(order);
        if current == Some(h) {
            continue;
        }
        if let Some(prev) = current {
            seen.insert(prev);
        }
        if seen.contains(&h) {
            split.insert(h);
        }
        current = Some(h);
    }
    Ok(split)
}

/// Reads `path` and computes the aggregates. `on_skip` is called for every unusable row.
pub fn aggregate_file(
    path: &Path,
    opts: &Options,
    on_skip: &mut dyn FnMut(&Skipped),
) -> Result<(Aggregates, Summary), String> {
    if let Some(e) = opts.epsilon
        && !(e.is_finite() && e > 0.0)
    {
        return Err("--epsilon must be a positive number".into());
    }
    if opts.epsilon.is_some() && opts.max_skus_per_order == 0 {
        return Err("--max-skus-per-order must be at least 1".into());
    }
    let mut reader = open(path)?;
    let (format, cols) = header(&mut reader, path, opts.format)?;
    // A random key per run: the hashes cannot be matched against order numbers elsewhere.
    let keyed = std::collections::hash_map::RandomState::new();
    let split = find_split_orders(path, &cols, &keyed)?;

    let mut counter = Counter::new(opts);
    let mut summary = Summary { format, rows: 0, used_rows: 0, skipped_rows: 0, orders: 0, merged_orders: 0 };
    let mut rec = ByteRecord::new();
    let mut current_order: Vec<u8> = Vec::new();
    let mut current: Vec<u32> = Vec::new();
    let mut buffered: BTreeMap<Vec<u8>, Vec<u32>> = BTreeMap::new();
    let mut last_record = None;
    while next(&mut reader, &mut rec, path)? {
        summary.rows += 1;
        last_record = rec.position().cloned();
        match reader::read_row(&rec, &cols) {
            Row::Skip(reason) => {
                summary.skipped_rows += 1;
                on_skip(&Skipped { line: line_of(&rec), reason });
            }
            Row::Nothing => {}
            Row::Line { order, sku } => {
                summary.used_rows += 1;
                let id = counter.intern(sku);
                if !split.is_empty() && split.contains(&keyed.hash_one(order)) {
                    buffered.entry(order.to_vec()).or_default().push(id);
                    continue;
                }
                if order != current_order.as_slice() {
                    let mut done = std::mem::take(&mut current);
                    counter.dedup(&mut done);
                    counter.add_order(&done);
                    current = done;
                    current.clear();
                    current_order.clear();
                    current_order.extend_from_slice(order);
                }
                current.push(id);
            }
        }
    }
    if let Some(start) = last_record {
        check_quotes_closed(path, &start)?;
    }
    counter.dedup(&mut current);
    counter.add_order(&current);
    summary.merged_orders = buffered.len() as u64;
    for (_, mut skus) in std::mem::take(&mut buffered) {
        counter.dedup(&mut skus);
        counter.add_order(&skus);
    }
    summary.orders = counter.orders;
    if summary.used_rows == 0 {
        return Err(format!(
            "{}: no usable row ({} data rows, {} skipped); nothing written",
            path.display(),
            summary.rows,
            summary.skipped_rows
        ));
    }
    Ok((publish(counter, opts)?, summary))
}

/// Applies the k threshold and, with epsilon, the noise; builds the sorted release.
fn publish(counter: Counter, opts: &Options) -> Result<Aggregates, String> {
    let k = opts.k;
    let mut noise = privacy::Noise::new();
    let scale = opts.epsilon.map(|e| privacy::laplace_scale(e, opts.max_skus_per_order));
    let mut release = |count: u64| -> Result<Option<u64>, String> {
        if count < k {
            return Ok(None);
        }
        let value = match scale {
            Some(b) => noise.noisy_count(count, b)?,
            None => count as i64,
        };
        Ok(privacy::publishable(value, k).then_some(value as u64))
    };
    let mut purchases = BTreeMap::new();
    for (id, &count) in counter.purchases.iter().enumerate() {
        if let Some(v) = release(count)? {
            purchases.insert(counter.names[id].to_string(), v);
        }
    }
    let mut pairs = Vec::new();
    for (&key, &count) in &counter.pairs {
        if let Some(v) = release(u64::from(count))? {
            let a = &counter.names[(key >> 32) as usize];
            let b = &counter.names[(key & 0xFFFF_FFFF) as usize];
            let (a, b) = if a < b { (a, b) } else { (b, a) };
            pairs.push(Pair { a: a.to_string(), b: b.to_string(), orders: v });
        }
    }
    pairs.sort();
    let orders = match scale {
        Some(b) => noise.noisy_count(counter.orders, b)?,
        None => counter.orders as i64,
    };
    Ok(Aggregates {
        k,
        epsilon: opts.epsilon,
        max_skus_per_order: opts.epsilon.map(|_| opts.max_skus_per_order),
        orders: privacy::round_orders(orders),
        purchases,
        pairs,
    })
}
