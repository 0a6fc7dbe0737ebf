//! Published images (src/images/), on real JPEG, PNG and WebP files written by the test in
//! three aspect ratios, the JPEG with EXIF orientation, GPS position and camera serial:
//! every width and format exists with the size the HTML states, the photo is upright, no
//! metadata reaches the site, the cache stops re-encoding (counted by the build's own
//! line), `cohort check` reports the location, bad input is an error naming each file with
//! the previous output intact, and `cohort serve` publishes a changed image.

// serve_support loads common/ for itself, privately; this file needs both.
#[allow(clippy::duplicate_mod)]
mod common;
mod serve_support;
use common::*;
use image::{ImageDecoder, ImageReader, Rgb, RgbImage, Rgba, RgbaImage};
use std::io::Cursor;
use std::path::Path;

const SERIAL: &str = "SN-4471-CAMERA-SERIAL";

/// A photo-like image: smooth colour fields with noise, so encoders cannot cheat.
fn noisy_rgb(w: u32, h: u32, left: [u8; 3], right: [u8; 3]) -> RgbImage {
    let mut seed = 0x2545_f491_u32;
    RgbImage::from_fn(w, h, |x, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed % 24) as i16 - 12;
        let base = if x < w / 2 { left } else { right };
        Rgb(base.map(|c| (c as i16 + n).clamp(0, 255) as u8))
    })
}

/// The TIFF body of an EXIF block with orientation 6 (turn 90° clockwise to view), a GPS
/// position and a camera serial number.
fn exif_block() -> Vec<u8> {
    use exif::experimental::Writer;
    use exif::{Field, In, Rational, Tag, Value};
    let fields = [
        Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![6]) },
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![Rational::from((52, 1)), Rational::from((31, 1)), Rational::from((12, 1))]),
        },
        Field { tag: Tag::GPSLongitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"E".to_vec()]) },
        Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![Rational::from((13, 1)), Rational::from((24, 1)), Rational::from((36, 1))]),
        },
        Field {
            tag: Tag::BodySerialNumber,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![SERIAL.as_bytes().to_vec()]),
        },
    ];
    let mut writer = Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut out = Cursor::new(Vec::new());
    writer.write(&mut out, false).expect("EXIF block");
    out.into_inner()
}

/// A JPEG with the EXIF block as an APP1 segment right after SOI.
fn jpeg_with_exif(img: &RgbImage) -> Vec<u8> {
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90).encode_image(img).expect("jpeg");
    let tiff = exif_block();
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

fn png_bytes(img: &RgbaImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).expect("png");
    out
}

fn webp_bytes(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::WebP).expect("webp");
    out
}

const SHOP_TOML: &str = r#"title = "Image Shop"
base_url = "https://img.example.com"
language = "en"
currency = "EUR"

[privacy]
policy_version = "2026-11-01"
controller = "Image Shop Ltd"
contact = "privacy@img.example.com"

[hero]
title = "Photos"
image = "hero.png"
"#;

fn product(slug: &str, image: &str) -> String {
    format!(
        "+++\ntitle = \"{slug}\"\nsku = \"{}\"\nprice = \"10.00\"\ncategory = \"things\"\nimages = [\"{image}\"]\n+++\nA {slug}.\n",
        slug.to_uppercase()
    )
}

/// A shop with a rotated, geotagged JPEG in a product bundle, a square PNG with alpha and a
/// portrait WebP in static/images/, and a wide PNG hero.
fn shop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    for d in ["products/camera-bag", "static/images"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    std::fs::write(root.join("shop.toml"), SHOP_TOML).expect("shop.toml");
    // Stored 1600 × 1000, left red, right blue; orientation 6 shows it 1000 × 1600 with red on top.
    let jpeg = jpeg_with_exif(&noisy_rgb(1600, 1000, [200, 30, 30], [30, 30, 200]));
    std::fs::write(root.join("products/camera-bag/photo.jpg"), jpeg).expect("jpeg");
    std::fs::write(root.join("products/camera-bag/index.md"), product("camera-bag", "photo.jpg")).expect("md");
    let square =
        RgbaImage::from_fn(700, 700, |x, y| Rgba([(x % 256) as u8, (y % 256) as u8, 90, if x < 20 { 0 } else { 255 }]));
    std::fs::write(root.join("static/images/square.png"), png_bytes(&square)).expect("png");
    std::fs::write(root.join("products/mug.md"), product("mug", "square.png")).expect("md");
    let tall = noisy_rgb(500, 900, [40, 160, 40], [160, 160, 40]);
    std::fs::write(root.join("static/images/tall.webp"), webp_bytes(&tall)).expect("webp");
    std::fs::write(root.join("products/flask.md"), product("flask", "tall.webp")).expect("md");
    let hero = RgbaImage::from_fn(2400, 800, |x, _| Rgba([(x / 10 % 256) as u8, 120, 200, 255]));
    std::fs::write(root.join("static/hero.png"), png_bytes(&hero)).expect("png");
    dir
}

/// The build's own count: (published, processed, from the cache).
fn image_counts(stderr: &str) -> (usize, usize, usize) {
    let line =
        stderr.lines().find(|l| l.starts_with("Images: ")).unwrap_or_else(|| panic!("no Images line in {stderr}"));
    let n: Vec<usize> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
    assert_eq!(n.len(), 3, "{line}");
    (n[0], n[1], n[2])
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    tag[start..].split('"').next()
}

/// The `<picture>` (or lone `<img>`) elements of a page, as text.
fn pictures(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<picture>") {
        let end = rest[i..].find("</picture>").expect("closed picture") + i;
        out.push(rest[i..end].to_string());
        rest = &rest[end..];
    }
    out
}

/// (url, width descriptor) of a srcset.
fn srcset(value: &str) -> Vec<(String, u32)> {
    value
        .split(", ")
        .map(|item| {
            let (url, w) = item.rsplit_once(' ').expect("url and width");
            (url.to_string(), w.trim_end_matches('w').parse().expect("width"))
        })
        .collect()
}

fn decode(path: &Path) -> (image::ImageFormat, image::DynamicImage, Option<Vec<u8>>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ImageReader::new(Cursor::new(&bytes)).with_guessed_format().expect("reader");
    let format = reader.format().expect("a known format");
    let mut decoder = reader.into_decoder().expect("decoder");
    let exif = decoder.exif_metadata().expect("metadata read");
    let img = image::DynamicImage::from_decoder(decoder).expect("decodes");
    (format, img, exif)
}

/// No EXIF, XMP, ICC text or comment in a published file, parsed by its format's structure.
fn assert_no_metadata(path: &Path) {
    let bytes = std::fs::read(path).expect("read");
    let name = path.display();
    assert!(!bytes.windows(SERIAL.len()).any(|w| w == SERIAL.as_bytes()), "{name} holds the camera serial");
    assert!(!bytes.windows(6).any(|w| w == b"Exif\0\0"), "{name} holds an EXIF block");
    let (format, _, exif) = decode(path);
    assert!(exif.is_none(), "{name}: the decoder finds EXIF data");
    match format {
        image::ImageFormat::Jpeg => {
            // Walk the segments up to the scan: only APP0 (JFIF), tables and frame headers.
            let mut i = 2;
            while i + 4 <= bytes.len() && bytes[i] == 0xFF {
                let marker = bytes[i + 1];
                if marker == 0xDA {
                    break;
                }
                assert!(!(0xE1..=0xEF).contains(&marker) && marker != 0xFE, "{name}: segment FF{marker:02X}");
                i += 2 + u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
            }
        }
        image::ImageFormat::Png => {
            let mut i = 8;
            while i + 8 <= bytes.len() {
                let len = u32::from_be_bytes(bytes[i..i + 4].try_into().expect("4 bytes")) as usize;
                let kind = &bytes[i + 4..i + 8];
                assert!(
                    ![&b"eXIf"[..], b"tEXt", b"iTXt", b"zTXt", b"tIME", b"iCCP"].contains(&kind),
                    "{name}: chunk {}",
                    String::from_utf8_lossy(kind)
                );
                i += 12 + len;
            }
        }
        image::ImageFormat::WebP => {
            let mut i = 12;
            while i + 8 <= bytes.len() {
                let kind = &bytes[i..i + 4];
                let len = u32::from_le_bytes(bytes[i + 4..i + 8].try_into().expect("4 bytes")) as usize;
                assert!(
                    ![&b"EXIF"[..], b"XMP ", b"ICCP"].contains(&kind),
                    "{name}: chunk {}",
                    String::from_utf8_lossy(kind)
                );
                i += 8 + len + len % 2;
            }
        }
        other => panic!("{name}: unexpected format {other:?}"),
    }
}

fn format_of_mime(mime: &str) -> image::ImageFormat {
    match mime {
        "image/webp" => image::ImageFormat::WebP,
        "image/jpeg" => image::ImageFormat::Jpeg,
        "image/png" => image::ImageFormat::Png,
        other => panic!("unexpected type {other}"),
    }
}

/// Checks one `<picture>`: every srcset file exists with the width it claims and the aspect
/// ratio of the source, in the format it claims, and the `<img>`'s width and height are
/// those of its `src`. Returns the srcset widths of the `<img>` and the `src` path.
fn check_picture(out: &Path, picture: &str, ratio: f64, fallback: &str) -> (Vec<u32>, String) {
    let img = &picture[picture.find("<img ").expect("an img")..];
    let mut sets = Vec::new();
    for source in picture.split("<source").skip(1) {
        sets.push((
            attr(source, "type").expect("type").to_string(),
            attr(source, "srcset").expect("srcset").to_string(),
        ));
    }
    sets.push((fallback.to_string(), attr(img, "srcset").expect("img srcset").to_string()));
    let mut widths = Vec::new();
    for (mime, set) in &sets {
        widths = Vec::new();
        for (url, w) in srcset(set) {
            assert!(url.starts_with("/_images/"), "{url}");
            let (format, decoded, _) = decode(&out.join(url.trim_start_matches('/')));
            assert_eq!(format, format_of_mime(mime), "{url}");
            assert_eq!(decoded.width(), w, "{url}: width as the srcset says");
            let r = decoded.width() as f64 / decoded.height() as f64;
            assert!((r - ratio).abs() < 0.02, "{url}: aspect {r} of the source's {ratio}");
            widths.push(w);
        }
    }
    let src = attr(img, "src").expect("src").to_string();
    let (_, decoded, _) = decode(&out.join(src.trim_start_matches('/')));
    assert_eq!(attr(img, "width"), Some(decoded.width().to_string().as_str()), "{img}");
    assert_eq!(attr(img, "height"), Some(decoded.height().to_string().as_str()), "{img}");
    (widths, src)
}

#[test]
fn images_are_resized_upright_stripped_and_cached() {
    let dir = shop();
    let root = dir.path();
    let out = root.join("public");
    let stderr = build_ok(root, &out);
    assert_eq!(image_counts(&stderr), (4, 4, 0), "{stderr}");

    // The JPEG: turned upright (1000 × 1600), at 320, 640, 960 and its own 1000 (not 1280,
    // 1920: never upscaled), in WebP and JPEG.
    let page = read(&out.join("products/camera-bag/index.html"));
    let all = pictures(&page);
    let gallery = all.first().expect("the gallery's picture");
    assert!(gallery.contains("<source type=\"image/webp\""), "{gallery}");
    assert!(gallery.contains("fetchpriority=\"high\"") && !gallery.contains("loading=\"lazy\""), "{gallery}");
    assert!(attr(gallery, "sizes").is_some(), "{gallery}");
    let (widths, src) = check_picture(&out, gallery, 1000.0 / 1600.0, "image/jpeg");
    assert_eq!(widths, [320, 640, 960, 1000]);
    let (_, upright, _) = decode(&out.join(src.trim_start_matches('/')));
    let upright = upright.to_rgb8();
    let (w, h) = upright.dimensions();
    assert_eq!((w, h), (1000, 1600));
    let top = upright.get_pixel(w / 2, h / 4);
    let bottom = upright.get_pixel(w / 2, 3 * h / 4);
    assert!(top[0] > 150 && top[2] < 90, "the red half is on top: {top:?}");
    assert!(bottom[2] > 150 && bottom[0] < 90, "the blue half is below: {bottom:?}");
    // The source's own path holds the largest fallback, also stripped.
    let own = out.join("products/camera-bag/photo.jpg");
    assert_eq!(decode(&own).1.width(), 1000);

    // The PNG (square, alpha kept): 320, 640, 700 in WebP and PNG.
    let mug = read(&out.join("products/mug/index.html"));
    let (widths, src) = check_picture(&out, pictures(&mug).first().expect("picture"), 1.0, "image/png");
    assert_eq!(widths, [320, 640, 700]);
    assert!(decode(&out.join(src.trim_start_matches('/'))).1.color().has_alpha(), "transparency survives");
    // The WebP (portrait): its own format is WebP, so one set: 320 and 500.
    let flask = read(&out.join("products/flask/index.html"));
    let img_start = flask.find("<img src=\"/_images/tall-").expect("the flask's img");
    let img = &flask[img_start..img_start + flask[img_start..].find('>').expect("end of img")];
    assert_eq!(srcset(attr(img, "srcset").expect("srcset")).iter().map(|(_, w)| *w).collect::<Vec<_>>(), [320, 500]);
    assert_eq!((attr(img, "width"), attr(img, "height")), (Some("500"), Some("900")));

    // Product cards elsewhere are lazy; the home hero is the page's eager image.
    let home = read(&out.join("index.html"));
    let hero = pictures(&home).into_iter().find(|p| p.contains("hero-image")).expect("hero picture");
    assert!(hero.contains("fetchpriority=\"high\""), "{hero}");
    check_picture(&out, &hero, 3.0, "image/png");
    let cards: Vec<String> = pictures(&home).into_iter().filter(|p| !p.contains("hero-image")).collect();
    assert!(!cards.is_empty() && cards.iter().all(|c| c.contains("loading=\"lazy\"")), "{cards:?}");

    // No metadata anywhere in the site.
    let mut published = 0;
    for entry in walkdir::WalkDir::new(&out).into_iter().filter_map(Result::ok) {
        let p = entry.path();
        if entry.file_type().is_file()
            && p.extension().is_some_and(|e| ["jpg", "png", "webp"].contains(&e.to_str().unwrap_or("")))
        {
            assert_no_metadata(p);
            published += 1;
        }
    }
    assert!(published >= 20, "{published} published image files");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&own).expect("published").permissions().mode();
        assert_eq!(mode & 0o044, 0o044, "published images are readable by others: {mode:o}");
    }
    assert!(read(&out.join("_headers")).contains("/_images/*\n  Cache-Control: public, max-age=31536000, immutable"));

    // A rebuild decodes nothing and writes the same site.
    let before = tree(&out);
    let stderr = build_ok(root, &out);
    assert_eq!(image_counts(&stderr), (4, 0, 4), "{stderr}");
    assert_eq!(tree(&out), before, "a rebuild gives the same site");

    // A changed image is the only one processed again; its old files leave the site.
    let new_square = RgbaImage::from_fn(600, 400, |x, y| Rgba([(y % 256) as u8, (x % 256) as u8, 20, 255]));
    std::fs::write(root.join("static/images/square.png"), png_bytes(&new_square)).expect("png");
    let stderr = build_ok(root, &out);
    assert_eq!(image_counts(&stderr), (4, 1, 3), "{stderr}");
    let mug_after = read(&out.join("products/mug/index.html"));
    let (widths, old_src) = (widths_of(&mug_after), src);
    assert_eq!(widths, [320, 600]);
    assert!(!out.join(old_src.trim_start_matches('/')).exists(), "{old_src} is gone");

    // Other settings make every image new.
    let toml = read(&root.join("shop.toml")) + "\n[images]\nwidths = [400, 800]\nquality = 70\n";
    std::fs::write(root.join("shop.toml"), toml).expect("shop.toml");
    let stderr = build_ok(root, &out);
    assert_eq!(image_counts(&stderr), (4, 4, 0), "{stderr}");
    assert_eq!(widths_of(&read(&out.join("products/camera-bag/index.html"))), [400, 800]);

    // The cache is ignored by git even where the shop's .gitignore does not say so.
    assert!(read(&root.join(".cohort-cache/.gitignore")).contains('*'));

    // `cohort check` reports the location in the source, through the same cache.
    let (_, stdout, stderr) = run(&["check", "--root", root.to_str().expect("utf8"), "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    let located: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "privacy/image-location")
        .collect();
    assert_eq!(located.len(), 1, "{report}");
    assert_eq!(located[0]["file"], "products/camera-bag/photo.jpg", "{report}");
}

fn widths_of(page: &str) -> Vec<u32> {
    let picture = pictures(page).into_iter().next().expect("a picture");
    let img = &picture[picture.find("<img ").expect("img")..];
    srcset(attr(img, "srcset").expect("srcset")).into_iter().map(|(_, w)| w).collect()
}

/// A PNG header claiming `w` × `h` pixels (valid signature and CRC, no pixel data).
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&w.to_be_bytes());
    chunk.extend_from_slice(&h.to_be_bytes());
    chunk.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut crc = flate2::Crc::new();
    crc.update(&chunk);
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out
}

#[test]
fn bad_images_are_errors_naming_each_file_and_keep_the_previous_site() {
    let dir = shop();
    let root = dir.path();
    let out = root.join("public");
    build_ok(root, &out);
    let before = tree(&out);

    let jpeg = std::fs::read(root.join("products/camera-bag/photo.jpg")).expect("jpeg");
    std::fs::write(root.join("static/images/truncated.jpg"), &jpeg[..jpeg.len() / 2]).expect("write");
    std::fs::write(root.join("static/images/notes.png"), "these are my notes, not a picture\n").expect("write");
    std::fs::write(root.join("static/images/bomb.png"), png_header_only(50_000, 50_000)).expect("write");
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    std::fs::write(root.join("static/images/animated.jpg"), gif).expect("write");
    std::fs::write(root.join("static/images/spin.gif"), gif).expect("write");
    std::fs::write(root.join("products/spinner.md"), product("spinner", "spin.gif")).expect("md");

    let (code, stdout, stderr) =
        run(&["build", "--root", root.to_str().expect("utf8"), "-o", out.to_str().expect("utf8")]);
    assert_ne!(code, 0, "{stdout}{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("5 problems found; nothing was written."), "{stderr}");
    let line_of = |file: &str| {
        stderr
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{file} is not named in:\n{stderr}"))
            .to_string()
    };
    assert!(line_of("static/images/truncated.jpg").contains("truncated"), "{stderr}");
    assert!(line_of("static/images/notes.png").contains("not a JPEG, PNG or WebP image"), "{stderr}");
    assert!(line_of("static/images/bomb.png").contains("50000 × 50000"), "{stderr}");
    assert!(line_of("static/images/animated.jpg").contains("GIF"), "{stderr}");
    assert!(line_of("static/images/spin.gif").contains("GIF"), "{stderr}");
    assert_eq!(tree(&out), before, "the previous site is intact");
}

/// AVIF is measured but not published (docs/shop.md, "Why not AVIF"): a product naming an
/// `.avif` file is an error naming it, not a copy that may carry a location.
#[test]
fn an_avif_source_is_refused_naming_the_file() {
    let dir = shop();
    let root = dir.path();
    let out = root.join("public");
    build_ok(root, &out);
    let before = tree(&out);
    // The head of an AVIF file (an ISO-BMFF `ftyp` box of brand avif); Cohort refuses it by
    // its format before reading more.
    let mut avif = vec![0, 0, 0, 0x1c];
    avif.extend_from_slice(b"ftypavif\0\0\0\0avifmif1miaf");
    std::fs::write(root.join("static/images/lens.avif"), &avif).expect("write");
    std::fs::write(root.join("products/lens.md"), product("lens", "lens.avif")).expect("md");

    let (code, stdout, stderr) =
        run(&["build", "--root", root.to_str().expect("utf8"), "-o", out.to_str().expect("utf8")]);
    assert_ne!(code, 0, "{stdout}{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let line = stderr.lines().find(|l| l.contains("static/images/lens.avif")).unwrap_or_default();
    assert!(line.contains("AVIF image, a format Cohort does not publish"), "{stderr}");
    assert!(stderr.contains("convert it to JPEG, PNG or WebP"), "{stderr}");
    assert_eq!(tree(&out), before, "the previous site is intact");
}

#[test]
fn serve_publishes_a_changed_image() {
    use serve_support::*;
    let dir = shop();
    let s = start(dir.path());
    let page = s.get("/products/mug/").text();
    let first = widths_of(&page);
    assert_eq!(first, [320, 640, 700]);
    let new_square = RgbaImage::from_fn(500, 500, |x, y| Rgba([(y % 256) as u8, (x % 256) as u8, 20, 255]));
    let tmp = dir.path().join("static/images/.square.png.tmp");
    std::fs::write(&tmp, png_bytes(&new_square)).expect("png");
    std::fs::rename(&tmp, dir.path().join("static/images/square.png")).expect("rename");
    let page = s.wait_for("/products/mug/", "the new image's widths", |b| {
        pictures(b).first().is_some_and(|p| p.contains(" 500w\""))
    });
    assert_eq!(widths_of(&page), [320, 500]);
    let picture = pictures(&page).into_iter().next().expect("picture");
    let img = &picture[picture.find("<img ").expect("img")..];
    let src = attr(img, "src").expect("src");
    let served = s.get(src);
    assert_eq!(served.status, 200, "{src}");
    let decoded = image::load_from_memory(&served.body).expect("the served image decodes");
    assert_eq!((decoded.width(), decoded.height()), (500, 500));
    // The other images came from the cache: the rotated JPEG still serves its page.
    assert!(s.get("/products/camera-bag/").text().contains("<source type=\"image/webp\""));
}

#[test]
fn cohort_init_keeps_the_image_cache_out_of_git() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shop = dir.path().join("shop");
    let (code, _, stderr) = run(&["init", shop.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{stderr}");
    let ignore = read(&shop.join(".gitignore"));
    assert!(ignore.lines().any(|l| l == "/.cohort-cache/"), "{ignore}");
}
