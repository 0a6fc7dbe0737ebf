//! `[images]`: the widths, quality and formats images are published in, and their checks.

use crate::diagnostics::{Diagnostic, Diagnostics, suggest};
use serde::Deserialize;
use toml::Spanned;

/// `[images]`: the widths, quality and formats every JPEG, PNG and WebP image of the shop is
/// published in (see `crate::images`).
#[derive(Debug, Clone, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagesConfig {
    /// Widths in pixels to publish each image at (never wider than the image itself).
    #[serde(default = "default_image_widths")]
    pub widths: Spanned<Vec<u32>>,
    /// Lossy encoding quality, 1 to 100.
    #[serde(default = "default_image_quality")]
    pub quality: Spanned<u8>,
    /// `webp` and/or `original` (the source's own format, the fallback for old browsers).
    #[serde(default = "default_image_formats")]
    pub formats: Vec<Spanned<String>>,
    /// The `sizes` attribute templates get when they do not give their own.
    #[serde(default = "default_image_sizes")]
    pub sizes: String,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        ImagesConfig {
            widths: default_image_widths(),
            quality: default_image_quality(),
            formats: default_image_formats(),
            sizes: default_image_sizes(),
        }
    }
}

/// The formats `[images] formats` may name.
pub const IMAGE_FORMATS: &[&str] = &["webp", "original"];

fn default_image_widths() -> Spanned<Vec<u32>> {
    Spanned::new(0..0, vec![320, 640, 960, 1280, 1920])
}
fn default_image_quality() -> Spanned<u8> {
    Spanned::new(0..0, 80)
}
fn default_image_formats() -> Vec<Spanned<String>> {
    IMAGE_FORMATS.iter().map(|f| Spanned::new(0..0, f.to_string())).collect()
}
fn default_image_sizes() -> String {
    "(min-width: 72rem) 35rem, (min-width: 48rem) 50vw, 100vw".into()
}

/// `[images]`: widths between 16 and 8192, quality 1 to 100, known formats, at least one.
pub(super) fn validate_images(
    images: &ImagesConfig,
    diags: &mut Diagnostics,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
) {
    let widths = images.widths.get_ref();
    if widths.is_empty() || widths.iter().any(|w| !(16..=8192).contains(w)) {
        diags.push(
            at(images.widths.span(), "[images] widths must list widths between 16 and 8192 pixels".into())
                .hint("e.g. widths = [320, 640, 960, 1280, 1920]"),
        );
    }
    if !(1..=100).contains(images.quality.get_ref()) {
        diags.push(
            at(images.quality.span(), "[images] quality must be between 1 and 100".into()).hint("e.g. quality = 80"),
        );
    }
    for f in &images.formats {
        if !IMAGE_FORMATS.contains(&f.get_ref().as_str()) {
            let hint = match suggest(f.get_ref(), IMAGE_FORMATS.iter().copied()) {
                Some(s) => format!("did you mean \"{s}\"? The formats are: {}", IMAGE_FORMATS.join(", ")),
                None => format!("the formats are: {}", IMAGE_FORMATS.join(", ")),
            };
            diags.push(at(f.span(), format!("`{}` is not an image format Cohort writes", f.get_ref())).hint(hint));
        }
    }
    if images.formats.is_empty() {
        diags.push(
            Diagnostic::new("shop.toml", "[images] formats is empty: images would not be published")
                .hint("formats = [\"webp\", \"original\"]"),
        );
    }
}
