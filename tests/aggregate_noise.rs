//! The Laplace mechanism drawn from the OS random source: 200,000 samples must have the
//! mean, variance and tail mass Laplace(b) predicts. Bounds are 8 standard errors, so a
//! false failure has probability far below 1e-12.

use cohort::aggregate::privacy::{self, Noise};

#[test]
fn laplace_samples_have_the_predicted_moments() {
    let b = privacy::laplace_scale(1.0, privacy::DEFAULT_MAX_SKUS_PER_ORDER);
    assert_eq!(b, 16.0);
    let n = 200_000usize;
    let mut noise = Noise::new();
    let samples: Vec<f64> = (0..n).map(|_| noise.laplace(b).unwrap()).collect();
    let nf = n as f64;
    let mean = samples.iter().sum::<f64>() / nf;
    let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nf - 1.0);

    let sigma2 = 2.0 * b * b; // 512
    let se_mean = (sigma2 / nf).sqrt(); // ≈ 0.051
    assert!(mean.abs() < 8.0 * se_mean, "mean {mean} (bound {})", 8.0 * se_mean);
    // Var(s²) ≈ (μ4 − σ⁴)/n with μ4 = 24 b⁴ for Laplace, so SE = b²·√(20/n) ≈ 2.56.
    let se_var = b * b * (20.0 / nf).sqrt();
    assert!((var - sigma2).abs() < 8.0 * se_var, "variance {var}, expected {sigma2} ± {}", 8.0 * se_var);
    // P(|X| > b) = e⁻¹ and P(X > 0) = 1/2.
    let p = (-1.0f64).exp();
    let tail = samples.iter().filter(|x| x.abs() > b).count() as f64 / nf;
    assert!((tail - p).abs() < 8.0 * (p * (1.0 - p) / nf).sqrt(), "tail {tail}");
    let positive = samples.iter().filter(|&&x| x > 0.0).count() as f64 / nf;
    assert!((positive - 0.5).abs() < 8.0 * (0.25 / nf).sqrt(), "positive {positive}");
    assert!(samples.iter().all(|x| x.is_finite()));
}

#[test]
fn noisy_counts_are_rounded_and_scale_with_epsilon() {
    let mut noise = Noise::new();
    // A huge epsilon means almost no noise: the count comes back exactly, as an integer.
    let tiny = privacy::laplace_scale(1e9, 5);
    for c in [0u64, 10, 12345] {
        assert_eq!(noise.noisy_count(c, tiny).unwrap(), c as i64);
    }
    // Mean absolute deviation of Laplace(b) is b: check it for epsilon 0.5 (b = 32).
    let b = privacy::laplace_scale(0.5, 5);
    let n = 50_000;
    let mad = (0..n).map(|_| noise.laplace(b).unwrap().abs()).sum::<f64>() / n as f64;
    // SD of |X| is b, so SE = b/√n ≈ 0.14; bound 8 SE.
    assert!((mad - b).abs() < 8.0 * b / (n as f64).sqrt(), "mean |noise| {mad}, expected {b}");
}
