//! `data/aggregates.toml`: the only thing `cohort aggregate` writes and the only order data
//! the build reads. One type, [`Aggregates`], with a loader and a writer, so the format is
//! defined in one place.
//!
//! The format (version 1), written deterministically (same counts → same bytes; keys sorted):
//!
//! ```toml
//! # comment lines
//! [meta]
//! format = 1
//! k = 10                   # counts from fewer than k distinct orders are left out
//! epsilon = 1.0            # only when noise was added
//! max_skus_per_order = 5   # only when noise was added: the contribution bound M
//! orders = 1200            # distinct orders read, rounded (nearest 10; nearest 100 from 1,000)
//!
//! [purchases]              # distinct orders containing the SKU, sorted by SKU
//! "TR2-001" = 120
//!
//! [[pairs]]                # distinct orders containing both SKUs; a < b; sorted by (a, b)
//! a = "SOCK-3"
//! b = "TR2-001"
//! orders = 34
//! ```
//!
//! There is no generation date on purpose: a date would make two runs on the same export
//! differ byte for byte.

use crate::diagnostics::line_col;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Current value of `meta.format`.
pub const FORMAT_VERSION: u32 = 1;

/// Parsed `data/aggregates.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregates {
    /// The k threshold the counts were filtered with.
    pub k: u64,
    /// The privacy budget, when Laplace noise was added.
    pub epsilon: Option<f64>,
    /// The contribution bound M, when Laplace noise was added.
    pub max_skus_per_order: Option<usize>,
    /// Number of distinct orders, rounded (and noised with epsilon).
    pub orders: u64,
    /// Distinct orders containing each SKU.
    pub purchases: BTreeMap<String, u64>,
    /// Distinct orders containing both SKUs, `a < b`, sorted by `(a, b)`.
    pub pairs: Vec<Pair>,
}

/// A pair of SKUs bought in the same orders.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pair {
    /// The SKU that sorts first.
    pub a: String,
    /// The other SKU.
    pub b: String,
    /// Distinct orders containing both (published only from k on).
    pub orders: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    meta: RawMeta,
    #[serde(default)]
    purchases: BTreeMap<String, u64>,
    #[serde(default)]
    pairs: Vec<RawPair>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    format: u32,
    k: u64,
    epsilon: Option<f64>,
    max_skus_per_order: Option<usize>,
    orders: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPair {
    a: String,
    b: String,
    orders: u64,
}

/// Loads `path`. `Ok(None)` when the file does not exist (recommendations then fall back to
/// content similarity); `Err` names the file, line and column when it is malformed.
pub fn load(path: &Path) -> Result<Option<Aggregates>, String> {
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    let text = String::from_utf8(text).map_err(|e| {
        let (line, col) = line_col(&String::from_utf8_lossy(e.as_bytes()), e.utf8_error().valid_up_to());
        format!("{}:{line}:{col}: not valid UTF-8", path.display())
    })?;
    parse(&text).map(Some).map_err(|(offset, msg)| match offset {
        Some(offset) => {
            let (line, col) = line_col(&text, offset);
            format!("{}:{line}:{col}: {msg}", path.display())
        }
        None => format!("{}: {msg}", path.display()),
    })
}

/// Parses the text of an aggregates file. The error carries a byte offset when known.
pub fn parse(text: &str) -> Result<Aggregates, (Option<usize>, String)> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        (
            e.span().map(|s| s.start),
            format!(
                "{} (this file is written by `cohort aggregate`; run it again to regenerate it)",
                e.message().trim()
            ),
        )
    })?;
    if raw.meta.format != FORMAT_VERSION {
        return Err((
            None,
            format!(
                "meta.format = {} is not supported (expected {FORMAT_VERSION}); run `cohort aggregate` again",
                raw.meta.format
            ),
        ));
    }
    let mut pairs = Vec::with_capacity(raw.pairs.len());
    for (i, p) in raw.pairs.into_iter().enumerate() {
        if p.a == p.b {
            return Err((None, format!("pairs[{i}]: a and b are the same SKU")));
        }
        let (a, b) = if p.a < p.b { (p.a, p.b) } else { (p.b, p.a) };
        pairs.push(Pair { a, b, orders: p.orders });
    }
    pairs.sort();
    Ok(Aggregates {
        k: raw.meta.k,
        epsilon: raw.meta.epsilon,
        max_skus_per_order: raw.meta.max_skus_per_order,
        orders: raw.meta.orders,
        purchases: raw.purchases,
        pairs,
    })
}

/// A TOML basic string with everything outside printable ASCII escaped.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Aggregates {
    /// Distinct orders containing `sku`, if published.
    pub fn purchases_of(&self, sku: &str) -> Option<u64> {
        self.purchases.get(sku).copied()
    }

    /// The file's text. Deterministic: purchases sorted by SKU, pairs by `(a, b)`.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        out.push_str("# Anonymized order aggregates written by `cohort aggregate` (SPEC section 8).\n");
        out.push_str("# Counts only: no order numbers, names, emails or addresses.\n");
        out.push_str("# Counts from fewer than k distinct orders are left out.\n\n");
        out.push_str("[meta]\n");
        let _ = writeln!(out, "format = {FORMAT_VERSION}");
        let _ = writeln!(out, "k = {}", self.k);
        if let Some(e) = self.epsilon {
            let _ = writeln!(out, "epsilon = {e:?}");
        }
        if let Some(m) = self.max_skus_per_order {
            let _ = writeln!(out, "max_skus_per_order = {m}");
        }
        let _ = writeln!(out, "orders = {}", self.orders);
        out.push_str("\n[purchases]\n");
        for (sku, n) in &self.purchases {
            let _ = writeln!(out, "{} = {n}", quote(sku));
        }
        let mut pairs: Vec<&Pair> = self.pairs.iter().collect();
        pairs.sort();
        for p in pairs {
            let _ = write!(out, "\n[[pairs]]\na = {}\nb = {}\norders = {}\n", quote(&p.a), quote(&p.b), p.orders);
        }
        out
    }

    /// Writes the file atomically (a temporary file beside it, then a rename), creating the
    /// parent folder if needed.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| format!("{}: cannot create folder: {e}", parent.display()))?;
        let name =
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "aggregates.toml".into());
        let tmp = parent.join(format!(".{name}.tmp{}", std::process::id()));
        std::fs::write(&tmp, self.to_toml()).map_err(|e| format!("{}: cannot write: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("{}: cannot write: {e}", path.display())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_escaping() {
        let mut purchases = BTreeMap::new();
        purchases.insert("A \"quoted\" \\ sku".to_string(), 12);
        purchases.insert("B".to_string(), 30);
        let agg = Aggregates {
            k: 10,
            epsilon: Some(0.5),
            max_skus_per_order: Some(5),
            orders: 1200,
            purchases,
            pairs: vec![Pair { a: "A \"quoted\" \\ sku".into(), b: "B".into(), orders: 11 }],
        };
        let text = agg.to_toml();
        assert_eq!(parse(&text).unwrap(), agg);
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
        assert_eq!(line_col("é\nü", 1), (1, 1)); // inside a character: no panic
        assert_eq!(line_col("ab", 99), (1, 3));
    }
}
