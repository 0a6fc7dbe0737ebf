//! Writes photo-like JPEGs for `bench/images.sh`: smooth scenes (sky gradient, hills, a few
//! objects) with per-pixel sensor noise, so they compress like real photos rather than
//! trivially. Deterministic: photo N is the same on every run.
//!
//!   cargo run --release --example gen_photos -- --count 1000 --out /tmp/photos [--width 3000 --height 2000]

use image::{Rgb, RgbImage};
use rayon::prelude::*;
use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let count: u32 = get("--count").and_then(|v| v.parse().ok()).unwrap_or(1000);
    let width: u32 = get("--width").and_then(|v| v.parse().ok()).unwrap_or(3000);
    let height: u32 = get("--height").and_then(|v| v.parse().ok()).unwrap_or(2000);
    let out = PathBuf::from(get("--out").unwrap_or_else(|| "/tmp/photos".into()));
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("cannot create {}: {e}", out.display());
        std::process::exit(1);
    }
    let failed = (0..count).into_par_iter().filter(|&n| {
        let img = photo(n, width, height);
        let mut bytes = Vec::new();
        let ok = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 88).encode_image(&img).is_ok();
        ok && std::fs::write(out.join(format!("p{n:04}.jpg")), bytes).is_ok()
    });
    let written = failed.count();
    println!("wrote {written} photos of {width}x{height} into {}", out.display());
}

fn photo(n: u32, w: u32, h: u32) -> RgbImage {
    let mut seed = 0x9e37_79b9_u32 ^ n.wrapping_mul(0x85eb_ca6b);
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let hue = (rand() % 360) as f32;
    let horizon = h as f32 * (0.35 + (rand() % 30) as f32 / 100.0);
    let objects: Vec<(f32, f32, f32, [f32; 3])> = (0..6)
        .map(|_| {
            let (x, y) = ((rand() % w) as f32, horizon + (rand() % (h / 2)) as f32);
            let r = 60.0 + (rand() % 400) as f32;
            let c = [(rand() % 200) as f32 + 30.0, (rand() % 200) as f32 + 30.0, (rand() % 200) as f32 + 30.0];
            (x, y, r, c)
        })
        .collect();
    let phase = (rand() % 1000) as f32 / 100.0;
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let hill = horizon + 80.0 * (fx / 300.0 + phase).sin() + 40.0 * (fx / 97.0).cos();
        let mut c = if fy < hill {
            let t = fy / hill;
            [90.0 + 100.0 * t, 140.0 + 60.0 * t, 230.0 - 40.0 * t]
        } else {
            let t = (fy - hill) / (h as f32 - hill).max(1.0);
            let g = 0.5 + 0.5 * (fx / 23.0 + fy / 31.0).sin() * (fy / 17.0).cos();
            [60.0 + 40.0 * g + hue / 12.0, 110.0 + 50.0 * g - 30.0 * t, 50.0 + 20.0 * g]
        };
        for (ox, oy, r, oc) in &objects {
            let d = ((fx - ox).powi(2) + (fy - oy).powi(2)).sqrt();
            if d < *r {
                let shade = 0.6 + 0.4 * (1.0 - d / r);
                c = [oc[0] * shade, oc[1] * shade, oc[2] * shade];
            }
        }
        let noise = ((rand() % 17) as f32 - 8.0) * 1.0;
        Rgb(c.map(|v| (v + noise).clamp(0.0, 255.0) as u8))
    })
}
