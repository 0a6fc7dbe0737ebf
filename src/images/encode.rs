//! Decoding and encoding one image: read it (refusing truncated files and formats Cohort does
//! not publish), turn it upright, resize it to each width, and encode each width as WebP and
//! in its own format from the pixels alone, so no metadata of the source is written.

use super::{MAX_PIXELS, Processed, Settings, Variant, hex, safe_stem};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use sha2::{Digest, Sha256};
use std::io::Cursor;

/// Why one image could not be published.
pub(super) struct Fault {
    pub(super) message: String,
    pub(super) hint: &'static str,
}

impl Fault {
    pub(super) fn new(message: impl Into<String>, hint: &'static str) -> Fault {
        Fault { message: message.into(), hint }
    }
}

pub(super) const HINT_REEXPORT: &str =
    "open it in an image editor and export it again as JPEG, PNG or WebP, or remove it";

fn mime_of(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
        _ => "image/webp",
    }
}

fn ext_of(mime: &str) -> &'static str {
    match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        _ => "webp",
    }
}

/// What one image became: its record and its files (name, bytes).
pub(super) type Encoded = (Processed, Vec<(String, Vec<u8>)>);

/// Decodes one image, applies its orientation, and encodes every width in every format.
/// Returns what was made and the files (name, bytes).
pub(super) fn encode(bytes: &[u8], stem: &str, settings: &Settings) -> Result<Encoded, Fault> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Fault::new(format!("cannot read the image: {e}"), HINT_REEXPORT))?;
    let format = match reader.format() {
        Some(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => f,
        Some(other) => {
            return Err(Fault::new(
                format!(
                    "is a {} image, a format Cohort does not publish",
                    other.extensions_str().first().map_or("other", |e| e).to_ascii_uppercase()
                ),
                "convert it to JPEG (photos), PNG (drawings, transparency) or WebP",
            ));
        }
        None => {
            return Err(Fault::new(
                "is not a JPEG, PNG or WebP image (its content is not an image Cohort reads)",
                HINT_REEXPORT,
            ));
        }
    };
    // The header alone tells the size: a "decompression bomb" is refused before decoding.
    if let Ok(size) = imagesize::blob_size(bytes) {
        let pixels = size.width as u64 * size.height as u64;
        if pixels > MAX_PIXELS {
            return Err(Fault::new(
                format!(
                    "is {} × {} pixels ({} megapixels); the largest image Cohort decodes has {} megapixels",
                    size.width,
                    size.height,
                    pixels / 1_000_000,
                    MAX_PIXELS / 1_000_000
                ),
                "scale it down (a product photo needs at most the largest of [images] widths)",
            ));
        }
    }
    let mut reader = reader;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(50_000);
    limits.max_image_height = Some(50_000);
    limits.max_alloc = Some(MAX_PIXELS * 8);
    reader.limits(limits);
    let broken = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => Fault::new(
            format!("is too large to decode safely ({e})"),
            "scale it down (a product photo needs at most the largest of [images] widths)",
        ),
        e => Fault::new(format!("cannot be decoded: {e} (the file may be truncated or damaged)"), HINT_REEXPORT),
    };
    let mut decoder = reader.into_decoder().map_err(broken)?;
    let exif = decoder.exif_metadata().ok().flatten();
    let orientation = exif
        .as_deref()
        .and_then(image::metadata::Orientation::from_exif_chunk)
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let location = exif.is_some_and(has_gps);
    let mut img = DynamicImage::from_decoder(decoder).map_err(broken)?;
    if format == ImageFormat::Jpeg {
        check_jpeg_complete(bytes)?;
    }
    img.apply_orientation(orientation);
    let (width, height) = (img.width(), img.height());
    let base = if img.color().has_alpha() {
        DynamicImage::ImageRgba8(img.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(img.into_rgb8())
    };
    let source_mime = mime_of(format);
    let mut mimes = Vec::new();
    if settings.original {
        mimes.push(source_mime);
    }
    if settings.webp && !mimes.contains(&"image/webp") {
        mimes.push("image/webp");
    }
    let mut variants = Vec::new();
    let mut outputs = Vec::new();
    let stem = safe_stem(stem);
    // Largest first, each width resized from the one before: the full-size image is
    // released after the first step.
    let mut current = base;
    for &w in settings.widths_for(width).iter().rev() {
        let h = ((u64::from(height) * u64::from(w) + u64::from(width) / 2) / u64::from(width)).max(1) as u32;
        if w != current.width() {
            current = current.resize_exact(w, h, image::imageops::FilterType::Triangle);
        }
        for &mime in &mimes {
            let data = encode_one(&current, mime, settings.quality)?;
            let hash = hex(&Sha256::digest(&data));
            let name = format!("{stem}-{w}-{}.{}", &hash[..12], ext_of(mime));
            variants.push(Variant { width: w, height: current.height(), mime: mime.to_string(), name: name.clone() });
            outputs.push((name, data));
        }
    }
    variants.sort_by(|a, b| a.mime.cmp(&b.mime).then(a.width.cmp(&b.width)));
    Ok((Processed { width, height, source_mime: source_mime.to_string(), variants, location }, outputs))
}

/// A JPEG whose data stops before its end marker decodes to a grey lower part with some
/// decoders: refuse it rather than publish a damaged photo.
fn check_jpeg_complete(bytes: &[u8]) -> Result<(), Fault> {
    let tail = &bytes[bytes.len().saturating_sub(64)..];
    if tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
        Ok(())
    } else {
        Err(Fault::new("is truncated: the JPEG data ends before the image does", HINT_REEXPORT))
    }
}

/// Whether an EXIF block holds any GPS field.
fn has_gps(exif: Vec<u8>) -> bool {
    match exif::Reader::new().read_raw(exif) {
        Ok(data) => data.fields().any(|f| f.tag.context() == exif::Context::Gps),
        Err(_) => false,
    }
}

/// Pixels only, into one format: nothing of the source's metadata is passed on.
fn encode_one(img: &DynamicImage, mime: &str, quality: u8) -> Result<Vec<u8>, Fault> {
    let failed = |e: String| Fault::new(format!("cannot be encoded as {mime}: {e}"), HINT_REEXPORT);
    let mut out = Vec::new();
    match mime {
        "image/webp" => {
            let encoder = match img {
                DynamicImage::ImageRgba8(buf) => webp::Encoder::from_rgba(buf.as_raw(), img.width(), img.height()),
                DynamicImage::ImageRgb8(buf) => webp::Encoder::from_rgb(buf.as_raw(), img.width(), img.height()),
                _ => return Err(failed("unexpected pixel layout".into())),
            };
            let mut config =
                webp::WebPConfig::new().map_err(|()| failed("libwebp refused its configuration".into()))?;
            config.quality = f32::from(quality);
            config.method = 4;
            let data = encoder.encode_advanced(&config).map_err(|e| failed(format!("{e:?}")))?;
            out.extend_from_slice(&data);
        }
        "image/jpeg" => {
            let rgb;
            let img = match img {
                DynamicImage::ImageRgb8(_) => img,
                other => {
                    rgb = DynamicImage::ImageRgb8(other.to_rgb8());
                    &rgb
                }
            };
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
                .encode_image(img)
                .map_err(|e| failed(e.to_string()))?;
        }
        _ => {
            let encoder = image::codecs::png::PngEncoder::new_with_quality(
                &mut out,
                image::codecs::png::CompressionType::Default,
                image::codecs::png::FilterType::Adaptive,
            );
            img.write_with_encoder(encoder).map_err(|e| failed(e.to_string()))?;
        }
    }
    Ok(out)
}
