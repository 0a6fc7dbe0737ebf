//! The `picture` template function of both engines: an image value (a product's
//! `images[i]`, `hero.picture`) as a `<picture>` element with a WebP `<source>`, or an
//! `<img>` alone when the image has one format.

use crate::html::escape;
use serde_json::Value;

/// What a template may pass besides the image.
#[derive(Debug, Default, Clone)]
pub struct PictureOptions {
    /// The `sizes` attribute; the image's own (`[images] sizes`) when not given.
    pub sizes: Option<String>,
    /// Load at once with `fetchpriority="high"` (the first, largest image of a page);
    /// otherwise `loading="lazy"`.
    pub eager: bool,
    /// The `class` attribute of the `<img>`.
    pub class: Option<String>,
    /// Alt text instead of the image's own (`""` for a decorative copy).
    pub alt: Option<String>,
}

/// The HTML of `image` (a map with `url`, `alt`, `width`, `height`, `srcset`, `sizes` and
/// `sources`), every attribute escaped. An image without a `url` gives an empty string.
pub fn picture_html(image: &Value, options: &PictureOptions) -> String {
    let text = |key: &str| image.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let Some(url) = text("url") else { return String::new() };
    let sizes = options.sizes.as_deref().or(text("sizes")).unwrap_or("100vw");
    let srcset = text("srcset");
    let mut img = format!("<img src=\"{}\"", escape(url));
    if let Some(srcset) = srcset {
        img.push_str(&format!(" srcset=\"{}\" sizes=\"{}\"", escape(srcset), escape(sizes)));
    }
    let alt = options.alt.as_deref().or(image.get("alt").and_then(Value::as_str)).unwrap_or("");
    img.push_str(&format!(" alt=\"{}\"", escape(alt)));
    if let (Some(w), Some(h)) =
        (image.get("width").and_then(Value::as_u64), image.get("height").and_then(Value::as_u64))
    {
        img.push_str(&format!(" width=\"{w}\" height=\"{h}\""));
    }
    if let Some(class) = options.class.as_deref().filter(|c| !c.is_empty()) {
        img.push_str(&format!(" class=\"{}\"", escape(class)));
    }
    img.push_str(if options.eager { " fetchpriority=\"high\"" } else { " loading=\"lazy\"" });
    img.push_str(" decoding=\"async\">");
    let sources: Vec<String> = image
        .get("sources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let kind = s.get("type")?.as_str()?;
            let srcset = s.get("srcset")?.as_str()?;
            Some(format!(
                "<source type=\"{}\" srcset=\"{}\" sizes=\"{}\">",
                escape(kind),
                escape(srcset),
                escape(sizes)
            ))
        })
        .collect();
    if sources.is_empty() { img } else { format!("<picture>{}{img}</picture>", sources.concat()) }
}
