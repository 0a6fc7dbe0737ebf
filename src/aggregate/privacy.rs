//! The privacy mechanisms of `cohort aggregate`: the k threshold, the bound on each order's
//! contribution and Laplace noise drawn from the operating system's random source.
//!
//! They live apart from the CSV readers so that the statistics can be tested directly
//! (the noise test draws 200,000 samples from [`Noise::laplace`]) and so that the whole
//! privacy argument of SPEC section 8 can be read in one file:
//!
//! * **k threshold**: a count from fewer than `k` distinct orders is never published
//!   ([`publishable`]). Purchases are counted as *distinct orders containing the SKU*, so a
//!   count is exactly the number of orders behind it.
//! * **Contribution bounding** (only with `--epsilon`): an order contributes at most
//!   `M = max_skus_per_order` distinct SKUs (the first M in file order; the rest of that order
//!   is ignored), so it changes at most 1 order total, M purchase counts and M(M-1)/2 pair
//!   counts, each by 1. The L1 sensitivity of the whole release is therefore
//!   [`sensitivity`]`(M) = 1 + M + M(M-1)/2` (16 for the default M = 5).
//! * **Laplace noise**: every published count (and the order total) gets independent noise
//!   of scale `b = sensitivity(M) / epsilon`, is rounded to an integer, and is dropped if it
//!   is then below `k`. Standard deviation is `b·√2`.
//!
//! What the noise does not cover, stated plainly: *which* SKUs and pairs appear is decided
//! from the true counts (the k rule) before noise, so the presence of a key whose true count
//! is exactly k can depend on one order. The counts themselves get ε-differential privacy;
//! the key set gets k-anonymity-style protection only. Strict ε-DP for the key set would need
//! a public list of candidate SKUs, which an order export does not provide.

/// Default bound on distinct SKUs per order when `--epsilon` is given.
pub const DEFAULT_MAX_SKUS_PER_ORDER: usize = 5;

/// L1 sensitivity of the release (order total, purchases, pairs) when every order
/// contributes at most `m` distinct SKUs: `1 + m + m(m-1)/2`.
pub fn sensitivity(m: usize) -> f64 {
    let m = m as f64;
    1.0 + m + m * (m - 1.0) / 2.0
}

/// The Laplace scale `b = sensitivity / epsilon`.
pub fn laplace_scale(epsilon: f64, max_skus_per_order: usize) -> f64 {
    sensitivity(max_skus_per_order) / epsilon
}

/// A count may be published only if it comes from at least `k` orders (after noise, if any).
pub fn publishable(count: i64, k: u64) -> bool {
    count >= 0 && (count as u64) >= k
}

/// Rounds the published number of orders: to the nearest 10 below 1,000, to the nearest
/// 100 from there on, so the file never states an exact order count.
pub fn round_orders(n: i64) -> u64 {
    if n <= 0 {
        return 0;
    }
    let n = n as u64;
    let step = if n < 1000 { 10 } else { 100 };
    (n + step / 2) / step * step
}

/// Random numbers from the OS (getrandom), buffered so that a large release does not make
/// one system call per sample.
pub struct Noise {
    buf: [u8; 4096],
    pos: usize,
}

impl Default for Noise {
    fn default() -> Self {
        Self::new()
    }
}

impl Noise {
    /// A source that reads from the operating system on first use.
    pub fn new() -> Self {
        Noise { buf: [0; 4096], pos: 4096 }
    }

    fn next_u64(&mut self) -> Result<u64, String> {
        if self.pos + 8 > self.buf.len() {
            getrandom::fill(&mut self.buf)
                .map_err(|e| format!("cannot read the operating system's random source: {e}"))?;
            self.pos = 0;
        }
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.buf[self.pos..self.pos + 8]);
        self.pos += 8;
        Ok(u64::from_le_bytes(word))
    }

    /// One sample of Laplace(0, `scale`): a random sign times an Exp(1) variable, scaled.
    /// The uniform variable uses 53 bits and lies strictly inside (0, 1), so `ln` is finite.
    pub fn laplace(&mut self, scale: f64) -> Result<f64, String> {
        let bits = self.next_u64()?;
        let u = ((bits >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let magnitude = -u.ln() * scale;
        Ok(if bits & 1 == 1 { magnitude } else { -magnitude })
    }

    /// `count` plus Laplace noise of `scale`, rounded to the nearest integer.
    pub fn noisy_count(&mut self, count: u64, scale: f64) -> Result<i64, String> {
        let noisy = count as f64 + self.laplace(scale)?;
        Ok(noisy.round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitivity_counts_total_purchases_and_pairs() {
        assert_eq!(sensitivity(1), 2.0);
        assert_eq!(sensitivity(5), 16.0);
        assert_eq!(laplace_scale(2.0, 5), 8.0);
    }

    #[test]
    fn rounding_hides_exact_totals() {
        assert_eq!(round_orders(0), 0);
        assert_eq!(round_orders(-3), 0);
        assert_eq!(round_orders(4), 0);
        assert_eq!(round_orders(5), 10);
        assert_eq!(round_orders(994), 990);
        assert_eq!(round_orders(1249), 1200);
        assert_eq!(round_orders(1250), 1300);
    }

    #[test]
    fn threshold() {
        assert!(!publishable(9, 10));
        assert!(publishable(10, 10));
        assert!(!publishable(-4, 0));
    }
}
