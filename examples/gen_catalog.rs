//! Benchmark catalog generator.
//!
//! ```text
//! cargo run --release --example gen_catalog -- --products N --cohorts C --out DIR [--hugo DIR2] [--zola DIR3]
//! ```
//!
//! Writes a shop in the format of SPEC section 2 (`DIR/shop.toml` and `DIR/products/pNNNNN.md`)
//! and, with `--hugo`, an equivalent Hugo site (`DIR2/hugo.toml`, `DIR2/content/products/*.md`
//! and the minimal theme from `bench/hugo-layouts/`, embedded here) for side-by-side builds;
//! with `--zola`, the same for Zola (`DIR3/config.toml`, `DIR3/content/products/*.md` and the
//! Tera theme from `bench/zola-layouts/`).
//!
//! Only the standard library is used, and nothing from the `cohort` crate, so this example
//! compiles whatever state the library is in. Output is deterministic: the same arguments
//! give byte-identical files (a fixed xorshift generator seeded by the product index).

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: gen_catalog --products N --cohorts C --out DIR [--hugo DIR2] [--zola DIR3]";

/// The ~40 categories, with the noun used in product titles.
const CATEGORIES: [(&str, &str); 40] = [
    ("shoes", "Runner"),
    ("boots", "Boot"),
    ("sandals", "Sandal"),
    ("outerwear", "Jacket"),
    ("fleece", "Fleece"),
    ("base-layers", "Base Layer"),
    ("trousers", "Trouser"),
    ("shorts", "Short"),
    ("hats", "Cap"),
    ("gloves", "Glove"),
    ("socks", "Sock"),
    ("packs", "Pack"),
    ("bags", "Tote"),
    ("tents", "Tent"),
    ("sleeping-bags", "Sleeping Bag"),
    ("stoves", "Stove"),
    ("cookware", "Pan"),
    ("knives", "Knife"),
    ("cutlery", "Cutlery Set"),
    ("tableware", "Bowl"),
    ("coffee", "Coffee Grinder"),
    ("tea", "Teapot"),
    ("pantry", "Storage Jar"),
    ("tools", "Multitool"),
    ("hand-tools", "Chisel"),
    ("power-tools", "Drill"),
    ("fasteners", "Screw Kit"),
    ("lighting", "Lantern"),
    ("garden", "Trowel"),
    ("seeds", "Seed Tin"),
    ("planters", "Planter"),
    ("watering", "Watering Can"),
    ("bikes", "Bike"),
    ("bike-parts", "Saddle"),
    ("climbing", "Harness"),
    ("water-sports", "Paddle"),
    ("optics", "Binocular"),
    ("electronics", "Headlamp"),
    ("books", "Field Guide"),
    ("stationery", "Notebook"),
];

/// 40 × 5 = 200 tags, `ADJ-NOUN`.
#[rustfmt::skip]
const TAG_ADJ: [&str; 40] = [
    "alpine", "urban", "coastal", "forest", "desert", "winter", "summer", "rainy", "light",
    "heavy", "quiet", "quick", "slow", "classic", "modern", "rustic", "compact", "modular",
    "recycled", "organic", "waxed", "woven", "forged", "cast", "carved", "folding", "insulated",
    "breathable", "waterproof", "repairable", "heritage", "family", "solo", "trail", "road",
    "camp", "studio", "market", "north", "south",
];
const TAG_NOUN: [&str; 5] = ["gear", "kit", "craft", "life", "days"];

#[rustfmt::skip]
const TITLE_ADJ: [&str; 24] = [
    "Trail", "Summit", "Harbour", "Meadow", "Ridge", "Cedar", "Granite", "Willow", "Ember",
    "Tidal", "Fjord", "Heather", "Copper", "Slate", "Birch", "Juniper", "Basalt", "Moss",
    "Falcon", "Lark", "Otter", "Quarry", "Beacon", "Hollow",
];
#[rustfmt::skip]
const TITLE_MATERIAL: [&str; 12] = [
    "Waxed", "Merino", "Canvas", "Steel", "Oak", "Ash", "Cork", "Linen", "Leather", "Titanium",
    "Enamel", "Ripstop",
];

#[rustfmt::skip]
const COHORT_NAMES: [&str; 12] = [
    "outdoor", "kitchen", "workshop", "garden", "travel", "family", "cycling", "climbing",
    "water", "coffee", "reading", "studio",
];

const AVAILABILITY: [&str; 8] =
    ["in_stock", "in_stock", "in_stock", "in_stock", "in_stock", "in_stock", "out_of_stock", "preorder"];

const BADGES: [&str; 6] = ["Staff pick", "New this season", "Bestseller", "Made to last", "Repairable", "Limited run"];

/// Vocabulary for the body text.
#[rustfmt::skip]
const WORDS: [&str; 162] = [
    "the", "a", "this", "every", "our", "your", "each", "with", "and", "or", "for", "from", "on",
    "in", "over", "under", "through", "after", "before", "while", "is", "keeps", "holds", "brings",
    "makes", "gives", "takes", "stays", "feels", "works", "lasts", "fits", "packs", "folds",
    "carries", "handles", "dries", "warms", "protects", "survives", "weathers", "ages", "wears",
    "cuts", "grips", "pours", "stands", "light", "sturdy", "simple", "honest", "quiet", "warm",
    "dry", "sharp", "balanced", "soft", "tough", "clean", "smooth", "steady", "generous",
    "compact", "reliable", "repairable", "durable", "careful", "practical", "familiar", "small",
    "long", "cold", "wet", "early", "late", "everyday", "weekend", "seasonal", "stitched",
    "riveted", "brushed", "oiled", "tested", "finished", "shaped", "tempered", "woven", "cast",
    "morning", "evening", "trail", "kitchen", "bench", "garden", "harbour", "ridge", "river",
    "forest", "shed", "table", "pocket", "shoulder", "hand", "handle", "seam", "edge", "sole",
    "strap", "lid", "blade", "grip", "frame", "fabric", "leather", "steel", "wool", "canvas",
    "oak", "cotton", "rubber", "weather", "rain", "wind", "frost", "sun", "mud", "dust", "use",
    "years", "season", "winter", "summer", "walk", "climb", "meal", "repair", "project",
    "journey", "day", "night", "week", "detail", "choice", "piece", "tool", "companion",
    "workshop", "maker", "family", "friend", "owner", "cook", "gardener", "hiker", "rider",
    "reader", "traveller", "craft", "care", "warranty", "spare", "part",
];

/// xorshift64*: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // splitmix64 the seed so neighbouring indices give unrelated streams.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

struct Args {
    products: usize,
    cohorts: usize,
    out: PathBuf,
    hugo: Option<PathBuf>,
    zola: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut products = None;
    let mut cohorts = 0usize;
    let mut out = None;
    let mut hugo = None;
    let mut zola = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--products" => {
                let v = value("--products")?;
                products = Some(v.parse::<usize>().map_err(|_| format!("--products: not a number: {v}"))?);
            }
            "--cohorts" => {
                let v = value("--cohorts")?;
                cohorts = v.parse::<usize>().map_err(|_| format!("--cohorts: not a number: {v}"))?;
            }
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--hugo" => hugo = Some(PathBuf::from(value("--hugo")?)),
            "--zola" => zola = Some(PathBuf::from(value("--zola")?)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(Args {
        products: products.ok_or("--products is required")?,
        cohorts,
        out: out.ok_or("--out is required")?,
        hugo,
        zola,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            if msg.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> io::Result<()> {
    let tags = tag_vocabulary();
    let cohorts = cohort_ids(args.cohorts);

    let products_dir = args.out.join("products");
    fs::create_dir_all(&products_dir)?;
    clear_generated(&products_dir)?;
    fs::write(args.out.join("shop.toml"), shop_toml(&cohorts, &tags))?;

    let hugo_products = match &args.hugo {
        Some(h) => {
            let dir = h.join("content").join("products");
            fs::create_dir_all(&dir)?;
            clear_generated(&dir)?;
            fs::write(h.join("hugo.toml"), HUGO_CONFIG)?;
            for (rel, text) in HUGO_LAYOUTS {
                let path = h.join("layouts").join(rel);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent)?;
                }
                fs::write(path, text)?;
            }
            Some(dir)
        }
        None => None,
    };

    let zola_products = match &args.zola {
        Some(z) => {
            let dir = z.join("content").join("products");
            fs::create_dir_all(&dir)?;
            clear_generated(&dir)?;
            for (rel, text) in ZOLA_FILES {
                let path = z.join(rel);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent)?;
                }
                fs::write(path, text)?;
            }
            Some(dir)
        }
        None => None,
    };

    let width = args.products.to_string().len().max(5);
    // Categories in use, for the Zola navigation (Hugo and Cohort list them from the catalog).
    let mut used_categories: Vec<&'static str> = Vec::new();
    for i in 0..args.products {
        let p = product(i, &tags, &cohorts);
        let name = format!("p{:0width$}.md", i + 1);
        write_file(&products_dir.join(&name), &p.cohort_file())?;
        if let Some(dir) = &hugo_products {
            write_file(&dir.join(&name), &p.hugo_file())?;
        }
        if let Some(dir) = &zola_products {
            write_file(&dir.join(&name), &p.zola_file())?;
        }
        if !used_categories.contains(&p.category) {
            used_categories.push(p.category);
        }
    }
    if let Some(z) = &args.zola {
        used_categories.sort_unstable();
        fs::write(z.join("config.toml"), zola_config(&used_categories))?;
    }
    eprintln!(
        "wrote {} products, {} cohorts to {}{}",
        args.products,
        cohorts.len(),
        args.out.display(),
        match &args.hugo {
            Some(h) => format!(" and a Hugo site to {}", h.display()),
            None => String::new(),
        },
    );
    if let Some(z) = &args.zola {
        eprintln!("wrote a Zola site to {}", z.display());
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> io::Result<()> {
    let mut f = io::BufWriter::new(fs::File::create(path)?);
    f.write_all(text.as_bytes())?;
    f.flush()
}

/// Removes product files an earlier, larger run left behind (`p<digits>.md` only).
fn clear_generated(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stem = name.strip_prefix('p').and_then(|s| s.strip_suffix(".md"));
        if stem.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())) {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn tag_vocabulary() -> Vec<String> {
    let mut tags = Vec::with_capacity(TAG_ADJ.len() * TAG_NOUN.len());
    for a in TAG_ADJ {
        for n in TAG_NOUN {
            tags.push(format!("{a}-{n}"));
        }
    }
    tags
}

fn cohort_ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match COHORT_NAMES.get(i) {
            Some(name) => (*name).to_string(),
            None => format!("cohort-{i}"),
        })
        .collect()
}

fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_list(items: &[&str]) -> String {
    let parts: Vec<String> = items.iter().map(|s| toml_str(s)).collect();
    format!("[{}]", parts.join(", "))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn shop_toml(cohorts: &[String], tags: &[String]) -> String {
    let mut s = String::new();
    s.push_str(
        "title = \"Bench Outfitters\"\n\
         base_url = \"https://bench.example.com\"\n\
         language = \"en\"\n\
         currency = \"EUR\"\n\
         theme = \"default\"\n\
         \n\
         [privacy]\n\
         policy_version = \"2026-11-01\"\n\
         controller = \"Bench Outfitters Ltd, 1 Example Street, Exampletown\"\n\
         contact = \"privacy@bench.example.com\"\n\
         consent_endpoint = \"/v1\"\n\
         consent_max_age_days = 180\n\
         honor_gpc = true\n\
         \n\
         [recommendations]\n\
         related = 4\n\
         bought_together = 4\n\
         picks = 8\n\
         \n\
         [personalization]\n\
         page_variants = [\"home\", \"category\"]\n",
    );
    for (i, id) in cohorts.iter().enumerate() {
        let mut rng = Rng::new(0xC0_4047 + i as u64);
        let mut interests: Vec<&str> = Vec::new();
        interests.push(CATEGORIES[rng.below(CATEGORIES.len())].0);
        while interests.len() < 5 {
            let t = tags[rng.below(tags.len())].as_str();
            if !interests.contains(&t) {
                interests.push(t);
            }
        }
        let label = capitalize(id);
        let campaign = format!("{id}-season");
        let _ = write!(
            s,
            "\n[[cohorts]]\n\
             id = {}\n\
             label = {}\n\
             description = {}\n\
             interests = {}\n\
             campaigns = {}\n",
            toml_str(id),
            toml_str(&label),
            toml_str(&format!("Shown when you choose {label} on the preferences page.")),
            toml_list(&interests),
            toml_list(&[campaign.as_str()]),
        );
    }
    s
}

struct Product {
    title: String,
    sku: String,
    price: String,
    compare_at: Option<String>,
    category: &'static str,
    tags: Vec<String>,
    availability: &'static str,
    date: String,
    summary: String,
    weight: u32,
    cohort: Option<(String, String, String)>,
    body: String,
}

fn money(minor: u64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn sentence(rng: &mut Rng) -> String {
    let n = 8 + rng.below(11);
    let mut s = String::new();
    for k in 0..n {
        let w = rng.pick(&WORDS);
        if k == 0 {
            s.push_str(&capitalize(w));
        } else {
            s.push(' ');
            s.push_str(w);
            if k + 1 < n && rng.below(9) == 0 {
                s.push(',');
            }
        }
    }
    s.push('.');
    s
}

fn paragraph(rng: &mut Rng) -> String {
    let n = 4 + rng.below(4);
    (0..n).map(|_| sentence(rng)).collect::<Vec<_>>().join(" ")
}

fn product(i: usize, tags: &[String], cohorts: &[String]) -> Product {
    let mut rng = Rng::new(i as u64);
    let (category, noun) = CATEGORIES[rng.below(CATEGORIES.len())];
    let title = format!("{} {} {} {}", rng.pick(&TITLE_ADJ), rng.pick(&TITLE_MATERIAL), noun, i + 1);
    let sku = format!("BN-{:06}", i + 1);
    let price_minor = 300 + rng.below(49_700) as u64;
    // Round to .00, .50, .90 or .95 like a real price list.
    let cents = [0u64, 50, 90, 95][rng.below(4)];
    let price_minor = price_minor / 100 * 100 + cents;
    let compare_at = if rng.below(6) == 0 { Some(money(price_minor / 100 * 120 + 100)) } else { None };
    let ntags = 2 + rng.below(4);
    let mut ptags: Vec<String> = Vec::with_capacity(ntags);
    while ptags.len() < ntags {
        let t = &tags[rng.below(tags.len())];
        if !ptags.contains(t) {
            ptags.push(t.clone());
        }
    }
    let availability = AVAILABILITY[rng.below(AVAILABILITY.len())];
    let year = 2025 + rng.below(2);
    let month = if year == 2026 { 1 + rng.below(11) } else { 1 + rng.below(12) };
    let date = format!("{year}-{month:02}-{:02}", 1 + rng.below(28));
    let summary = sentence(&mut rng);
    let weight = rng.below(100) as u32;
    let cohort = if !cohorts.is_empty() && rng.below(8) == 0 {
        let id = cohorts[rng.below(cohorts.len())].clone();
        let csummary = sentence(&mut rng);
        let badge = rng.pick(&BADGES).to_string();
        Some((id, csummary, badge))
    } else {
        None
    };
    let body = (0..3).map(|_| paragraph(&mut rng)).collect::<Vec<_>>().join("\n\n");
    Product {
        title,
        sku,
        price: money(price_minor),
        compare_at,
        category,
        tags: ptags,
        availability,
        date,
        summary,
        weight,
        cohort,
        body,
    }
}

impl Product {
    fn front_matter(&self, hugo: bool) -> String {
        let tags: Vec<&str> = self.tags.iter().map(String::as_str).collect();
        let mut s = String::from("+++\n");
        let _ = writeln!(s, "title = {}", toml_str(&self.title));
        let _ = writeln!(s, "sku = {}", toml_str(&self.sku));
        let _ = writeln!(s, "price = {}", toml_str(&self.price));
        if let Some(c) = &self.compare_at {
            let _ = writeln!(s, "compare_at_price = {}", toml_str(c));
        }
        if hugo {
            // Hugo taxonomies take lists.
            let _ = writeln!(s, "categories = {}", toml_list(&[self.category]));
        } else {
            let _ = writeln!(s, "category = {}", toml_str(self.category));
        }
        let _ = writeln!(s, "tags = {}", toml_list(&tags));
        let _ = writeln!(s, "availability = {}", toml_str(self.availability));
        let _ = writeln!(s, "date = {}", self.date);
        let _ = writeln!(s, "summary = {}", toml_str(&self.summary));
        let _ = writeln!(s, "weight = {}", self.weight);
        if let Some((id, summary, badge)) = &self.cohort {
            let _ = write!(s, "\n[cohort.{id}]\nsummary = {}\nbadge = {}\n", toml_str(summary), toml_str(badge));
        }
        s.push_str("+++\n");
        s
    }

    /// Zola's front matter: only `title`, `date`, `weight`, `[taxonomies]` and `[extra]` are
    /// free to use (unknown top-level keys are rejected), so the shop fields go in `[extra]`.
    fn zola_front_matter(&self) -> String {
        let tags: Vec<&str> = self.tags.iter().map(String::as_str).collect();
        let mut s = String::from("+++\n");
        let _ = writeln!(s, "title = {}", toml_str(&self.title));
        let _ = writeln!(s, "date = {}", self.date);
        let _ = writeln!(s, "weight = {}", self.weight);
        s.push_str("\n[taxonomies]\n");
        let _ = writeln!(s, "categories = {}", toml_list(&[self.category]));
        let _ = writeln!(s, "tags = {}", toml_list(&tags));
        s.push_str("\n[extra]\n");
        let _ = writeln!(s, "sku = {}", toml_str(&self.sku));
        let _ = writeln!(s, "price = {}", toml_str(&self.price));
        if let Some(c) = &self.compare_at {
            let _ = writeln!(s, "compare_at_price = {}", toml_str(c));
        }
        let _ = writeln!(s, "availability = {}", toml_str(self.availability));
        let _ = writeln!(s, "summary = {}", toml_str(&self.summary));
        // Zola's page values do not expose `weight` to templates: the picks sort on this copy.
        let _ = writeln!(s, "weight = {}", self.weight);
        if let Some((id, summary, badge)) = &self.cohort {
            let _ = write!(s, "\n[extra.cohort.{id}]\nsummary = {}\nbadge = {}\n", toml_str(summary), toml_str(badge));
        }
        s.push_str("+++\n");
        s
    }

    fn cohort_file(&self) -> String {
        format!("{}{}\n", self.front_matter(false), self.body)
    }

    fn hugo_file(&self) -> String {
        format!("{}{}\n", self.front_matter(true), self.body)
    }

    fn zola_file(&self) -> String {
        format!("{}{}\n", self.zola_front_matter(), self.body)
    }
}

const HUGO_CONFIG: &str = include_str!("../bench/hugo-layouts/hugo.toml");

const HUGO_LAYOUTS: [(&str, &str); 7] = [
    ("_default/baseof.html", include_str!("../bench/hugo-layouts/_default/baseof.html")),
    ("index.html", include_str!("../bench/hugo-layouts/index.html")),
    ("_default/single.html", include_str!("../bench/hugo-layouts/_default/single.html")),
    ("_default/term.html", include_str!("../bench/hugo-layouts/_default/term.html")),
    ("_default/list.html", include_str!("../bench/hugo-layouts/_default/list.html")),
    ("404.html", include_str!("../bench/hugo-layouts/404.html")),
    ("partials/card.html", include_str!("../bench/hugo-layouts/partials/card.html")),
];

/// `config.toml` for Zola: `bench/zola-layouts/config.toml` and an `[extra]` table with the
/// categories in use (sorted), which the theme's navigation prints. Zola's `get_taxonomy()`
/// would put every product into every page's template context to get those 40 names.
fn zola_config(categories: &[&str]) -> String {
    let mut s = String::from(ZOLA_CONFIG);
    if !s.ends_with('\n') {
        s.push('\n');
    }
    let _ = write!(
        s,
        "\n[extra]\n# Written by gen_catalog: the categories in use, for the navigation.\ncategories = {}\n",
        toml_list(categories)
    );
    s
}

const ZOLA_CONFIG: &str = include_str!("../bench/zola-layouts/config.toml");

/// The Zola theme and the products section, by path under the Zola site.
const ZOLA_FILES: [(&str, &str); 8] = [
    ("content/products/_index.md", include_str!("../bench/zola-layouts/content/products/_index.md")),
    ("templates/base.html", include_str!("../bench/zola-layouts/templates/base.html")),
    ("templates/card.html", include_str!("../bench/zola-layouts/templates/card.html")),
    ("templates/index.html", include_str!("../bench/zola-layouts/templates/index.html")),
    ("templates/page.html", include_str!("../bench/zola-layouts/templates/page.html")),
    ("templates/taxonomy_single.html", include_str!("../bench/zola-layouts/templates/taxonomy_single.html")),
    ("templates/taxonomy_list.html", include_str!("../bench/zola-layouts/templates/taxonomy_list.html")),
    ("templates/404.html", include_str!("../bench/zola-layouts/templates/404.html")),
];
