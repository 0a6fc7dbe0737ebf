//! After a scripted sequence of edits (prices, summaries, new, deleted and renamed products,
//! a category change, a bundle image, a static file, a template, shop.toml, a content page,
//! a draft published, a burst of saves, a broken file and its fix), the site `cohort serve`
//! holds is byte for byte what a fresh `cohort build` of the same files writes: every file,
//! nothing more, nothing less. Files are compared raw (`/__cohort/raw/`, no live-reload
//! tag), and HTML pages also as served, minus the injected tag.

mod serve_support;
use serve_support::*;
use std::path::Path;
use std::time::{Duration, Instant};

fn write(root: &Path, file: &str, text: &str) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    write_by_rename(&path, text);
}

fn product(title: &str, sku: &str, price: &str, category: &str, tags: &str, extra: &str) -> String {
    format!(
        "+++\ntitle = \"{title}\"\nsku = \"{sku}\"\nprice = \"{price}\"\ncategory = \"{category}\"\ntags = [{tags}]\ndate = 2026-11-15\nsummary = \"About {title}.\"\n{extra}+++\nThe {title}, described.\n"
    )
}

/// Waits until the served site equals a fresh build of `root` (bounded), or fails with the
/// first difference.
fn assert_identical(s: &Served, root: &Path, step: &str) {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("site");
    build(root, &out_dir);
    let expected = tree(&out_dir);
    let start = Instant::now();
    loop {
        let served = s.site();
        if served == expected {
            break;
        }
        if start.elapsed() > REBUILD_TIMEOUT {
            let missing: Vec<_> = expected.keys().filter(|k| !served.contains_key(*k)).collect();
            let extra: Vec<_> = served.keys().filter(|k| !expected.contains_key(*k)).collect();
            let differ: Vec<_> =
                expected.keys().filter(|k| served.get(*k).is_some_and(|v| v != &expected[*k])).collect();
            let first = differ.first().map(|k| {
                format!(
                    "--- built {k}:\n{}\n--- served:\n{}",
                    String::from_utf8_lossy(&expected[*k]),
                    String::from_utf8_lossy(&served[*k])
                )
            });
            panic!(
                "after {step}: served site differs from a fresh build\nmissing: {missing:?}\nextra: {extra:?}\ndiffer: {differ:?}\n{}\nserver stderr:\n{}",
                first.unwrap_or_default(),
                s.stderr()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // HTML as served is the same bytes plus the live-reload tag.
    for (path, bytes) in &expected {
        if let Some(dir) = path.strip_suffix("index.html")
            && !path.starts_with("c/")
        {
            let served = s.get(&format!("/{}", encode(dir))).text();
            let untagged = without_livereload(&served).unwrap_or_else(|| panic!("{path} has no live-reload tag"));
            assert_eq!(untagged.as_bytes(), &bytes[..], "{path} as served");
        }
    }
}

#[test]
fn twenty_odd_edits_leave_the_served_site_identical_to_a_full_build() {
    let shop = basic_shop();
    let root = shop.path();
    std::fs::create_dir_all(root.join("templates")).unwrap();
    let s = start(root);
    let events = s.events();
    events.next_named("hello");
    assert_identical(&s, root, "the first build");

    let steps = std::cell::Cell::new(0);
    let step = |what: &str, change: &dyn Fn()| {
        change();
        steps.set(steps.get() + 1);
        let (name, data) = events.next().unwrap_or_else(|| panic!("no event after {what}\n{}", s.stderr()));
        assert!(name == "reload" || name == "build-error", "{what}: {name} {data}");
    };
    step("a price", &|| edit(root, "products/chef-knife.md", "price = \"79.00\"", "price = \"81.00\""));
    step("a summary", &|| edit(root, "products/rain-shell.md", "packs into its pocket", "packs into a pocket"));
    step("a new product", &|| {
        write(root, "products/camp-stove.md", &product("Camp Stove", "ST-1", "45.00", "camping", "\"outdoor\"", ""))
    });
    step("another new product", &|| {
        write(root, "products/tea-kettle.md", &product("Tea Kettle", "TK-1", "35.00", "kitchen", "\"kitchen\"", ""))
    });
    step("a summary added", &|| {
        edit(root, "products/enamel-mug.md", "date = 2026-09-01", "date = 2026-09-01\nsummary = \"Tough.\"")
    });
    step("a category change", &|| {
        edit(root, "products/chef-knife.md", "category = \"kitchen\"", "category = \"knives\"")
    });
    step("tags of a bundle", &|| {
        edit(
            root,
            "products/hiking-boot/index.md",
            "tags = [\"outdoor\", \"hiking\"]",
            "tags = [\"outdoor\", \"winter\"]",
        )
    });
    step("cohort copy", &|| {
        edit(
            root,
            "products/camp-stove.md",
            "+++\nThe",
            "[cohort.outdoor]\nsummary = \"For the trail.\"\nbadge = \"Trail pick\"\n+++\nThe",
        )
    });
    step("a rename", &|| {
        std::fs::rename(root.join("products/rain-shell.md"), root.join("products/rain-jacket.md")).unwrap()
    });
    step("a deletion", &|| std::fs::remove_file(root.join("products/enamel-mug.md")).unwrap());
    assert_identical(&s, root, "ten product edits");
    step("a static file changed", &|| {
        image::RgbImage::from_pixel(40, 30, image::Rgb([10, 200, 90])).save(root.join("static/images/mug.png")).unwrap()
    });
    step("a new static file", &|| std::fs::write(root.join("static/extra.css"), "body { color: #222 }\n").unwrap());
    step("a bundle image", &|| {
        image::RgbImage::from_pixel(30, 40, image::Rgb([90, 60, 20]))
            .save(root.join("products/hiking-boot/boot.png"))
            .unwrap()
    });
    let not_found =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates/404.html"))
            .unwrap();
    step("a template", &|| {
        write(root, "templates/404.html", &not_found.replace("</main>", "<p>Try the search.</p></main>"))
    });
    step("shop.toml", &|| {
        edit(root, "shop.toml", "A small shop for the integration tests.", "A small shop, edited while serving.")
    });
    step("a cohort label", &|| edit(root, "shop.toml", "label = \"Kitchen\"", "label = \"Cooking\""));
    step("a content page", &|| edit(root, "pages/about.md", "+++", "+++\n"));
    step("a draft published", &|| edit(root, "products/secret-prototype.md", "draft = true", "draft = false"));
    step("a weight", &|| edit(root, "products/camp-stove.md", "date = 2026-11-15", "date = 2026-11-15\nweight = -5"));
    assert_identical(&s, root, "static, template, config and page edits");
    // A burst of saves, faster than the debounce.
    for price in ["36.00", "37.00", "38.00", "39.00"] {
        let text = product("Tea Kettle", "TK-1", price, "kitchen", "\"kitchen\"", "");
        write(root, "products/tea-kettle.md", &text);
        steps.set(steps.get() + 1);
    }
    s.wait_for("/products/tea-kettle/", "the last price of the burst", |b| b.contains("€39.00"));
    // A broken file, then its fix.
    edit(root, "products/tea-kettle.md", "price = \"39.00\"", "price = \"39.00");
    steps.set(steps.get() + 1);
    assert!(events.next_named("build-error").is_some(), "the broken file is reported");
    edit(root, "products/tea-kettle.md", "price = \"39.00", "price = \"40.00\"");
    steps.set(steps.get() + 1);
    step("a date", &|| edit(root, "products/camp-stove.md", "date = 2026-11-15", "date = 2026-11-16"));
    step("a deletion of a new product", &|| std::fs::remove_file(root.join("products/camp-stove.md")).unwrap());
    step("a summary of the renamed product", &|| {
        edit(root, "products/rain-jacket.md", "A light jacket", "A lighter jacket")
    });
    assert!(steps.get() >= 20, "{} edits", steps.get());
    assert_identical(&s, root, "all edits");
}

#[test]
fn a_summary_edit_in_a_larger_catalog_renders_few_pages_and_stays_identical() {
    let shop = basic_shop();
    let root = shop.path();
    let categories = ["kitchen", "outerwear", "shoes", "camping"];
    for i in 0..80 {
        let tags = format!("\"t{}\", \"outdoor\"", i % 5);
        let text = product(
            &format!("Item {i:03}"),
            &format!("IT-{i:03}"),
            &format!("{}.00", 10 + i),
            categories[i % 4],
            &tags,
            "",
        )
        .replace("date = 2026-11-15", &format!("date = 2026-0{}-1{}", 1 + i % 8, i % 10));
        std::fs::write(root.join(format!("products/item-{i:03}.md")), text).unwrap();
    }
    let s = start(root);
    let events = s.events();
    events.next_named("hello");
    edit(root, "products/item-041.md", "summary = \"About Item 041.\"", "summary = \"Edited while serving.\"");
    events.next_named("reload").expect("a reload event");
    s.wait_for("/products/item-041/", "the new summary", |b| b.contains("Edited while serving."));
    let line = s.wait_for_line("the rebuild line of item-041.md", |l| l.contains("item-041.md changed"));
    let counts: Vec<usize> = line
        .split(" of ")
        .flat_map(|part| part.split_whitespace().filter_map(|w| w.parse().ok()).collect::<Vec<usize>>())
        .collect();
    assert!(counts.len() >= 2 && counts[0] < counts[1] / 4, "a summary edit re-rendered too much: {line}");
    assert_identical(&s, root, "a summary edit");
}

#[test]
fn a_template_edit_renders_only_the_pages_that_use_it() {
    let shop = basic_shop();
    let root = shop.path();
    // The folders exist before the server starts, so each edit below is one file's event
    // (a folder created while serving is a change of its own, with its own terminal line).
    std::fs::create_dir_all(root.join("templates/partials")).unwrap();
    let s = start(root);
    let events = s.events();
    events.next_named("hello");
    let product_pages = s.site().keys().filter(|k| k.starts_with("products/") && k.ends_with("/index.html")).count();
    assert!(product_pages > 3, "{product_pages} product pages");
    let template =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates/product.html"))
            .unwrap();
    let edited = template.replacen("{% block content %}", "{% block content %}<p>Edited template.</p>", 1);
    assert_ne!(edited, template);
    write(root, "templates/product.html", &edited);
    events.next_named("reload").expect("a reload event");
    let line = s.wait_for_line("the rebuild line of the template", |l| l.contains("templates/product.html changed:"));
    let rendered: Option<usize> =
        line.split(" of ").next().and_then(|head| head.split_whitespace().last()).and_then(|n| n.parse().ok());
    assert_eq!(rendered, Some(product_pages), "only the product pages render again: {line}");
    assert!(!line.contains("full render"), "{line}");
    assert_identical(&s, root, "a product template edit");
    // A partial every page includes (the consent banner) renders everything again.
    let banner = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates/partials/consent-banner.html"),
    )
    .unwrap();
    write(root, "templates/partials/consent-banner.html", &format!("{banner}\n"));
    events.next_named("reload").expect("a reload event");
    assert_identical(&s, root, "a banner edit");
    // The card partial, which `render_card` renders once per product and build: listings,
    // recommendation blocks and cohort fragments show the new card.
    let card = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates/partials/card.html"),
    )
    .unwrap();
    let edited = card.replacen("</article>", "<span class=\"card-edited\"></span></article>", 1);
    assert_ne!(edited, card);
    write(root, "templates/partials/card.html", &edited);
    events.next_named("reload").expect("a reload event");
    s.wait_for("/categories/kitchen/", "the edited card", |b| b.contains("card-edited"));
    assert_identical(&s, root, "a card partial edit");
}

/// The section `<section class="NAME"` ... `</section>` of a page.
fn section<'a>(html: &'a str, class: &str) -> &'a str {
    let start = html.find(&format!("<section class=\"{class}\"")).unwrap_or_else(|| panic!("no {class} section"));
    let end = start + html[start..].find("</section>").expect("closed section");
    &html[start..end]
}

#[test]
fn example_shop_edits_reach_related_blocks_and_stay_identical() {
    let shop = tempfile::tempdir().unwrap();
    let root = shop.path();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("example-shop"), root);
    let s = start(root);
    let events = s.events();
    events.next_named("hello");
    let kettle = s.get("/products/camp-kettle-1l/").text();
    assert!(section(&kettle, "related").contains("data-sku=\"FF-CW-CS28\""), "the skillet is related to the kettle");
    assert!(section(&kettle, "related").contains("data-sku=\"FF-CW-CS28\" data-price=\"59.00\""));
    edit(root, "products/carbon-steel-skillet-28.md", "price = \"59.00\"", "price = \"61.50\"");
    events.next_named("reload").expect("a reload event");
    s.wait_for("/products/carbon-steel-skillet-28/", "the new price", |b| b.contains("€61.50"));
    let kettle = s.get("/products/camp-kettle-1l/").text();
    let related = section(&kettle, "related");
    assert!(related.contains("data-sku=\"FF-CW-CS28\" data-price=\"61.50\""), "the related block shows the new price");
    assert!(!related.contains("data-sku=\"FF-CW-CS28\" data-price=\"59.00\""), "the related block lost the old price");
    edit(root, "products/camp-kettle-1l.md", "summary = \"", "summary = \"Edited: ");
    events.next_named("reload").expect("a reload event");
    assert_identical(&s, root, "example shop edits");
}

/// A small deterministic generator (xorshift64*), so the series of edits is the same on
/// every run and a failure names the edit that caused it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A generated product: every field an edit can change.
#[derive(Clone)]
struct Gen {
    title: String,
    price: u32,
    category: String,
    tags: Vec<String>,
    availability: &'static str,
    date: String,
    weight: i32,
    copy: bool,
}

impl Gen {
    fn text(&self, sku: &str) -> String {
        let tags: Vec<String> = self.tags.iter().map(|t| format!("\"{t}\"")).collect();
        let copy =
            if self.copy { "[cohort.outdoor]\nsummary = \"For the trail.\"\nbadge = \"Trail pick\"\n" } else { "" };
        format!(
            "+++\ntitle = \"{}\"\nsku = \"{sku}\"\nprice = \"{}.{:02}\"\ncategory = \"{}\"\ntags = [{}]\navailability = \"{}\"\ndate = {}\nweight = {}\nsummary = \"About {}.\"\n{copy}+++\nThe {}, described.\n",
            self.title,
            self.price / 100,
            self.price % 100,
            self.category,
            tags.join(", "),
            self.availability,
            self.date,
            self.weight,
            self.title,
            self.title,
        )
    }
}

const CATEGORIES: [&str; 5] = ["kitchen", "outerwear", "shoes", "camping", "tools"];
const TAGS: [&str; 8] = ["outdoor", "kitchen", "hiking", "winter", "steel", "light", "gift", "repair"];
const AVAILABILITY: [&str; 3] = ["in_stock", "out_of_stock", "preorder"];

fn generated(rng: &mut Rng, n: usize) -> Gen {
    let tags = (0..1 + rng.below(3)).map(|_| rng.pick(&TAGS).to_string()).collect::<std::collections::BTreeSet<_>>();
    Gen {
        title: format!("Item {n} {}", rng.pick(&["Red", "Blue", "Small", "Large", "Classic"])),
        price: 500 + rng.below(20_000) as u32,
        category: rng.pick(&CATEGORIES).to_string(),
        tags: tags.into_iter().collect(),
        availability: AVAILABILITY[rng.below(3)],
        // Few distinct dates, so "newest" has ties that file order breaks.
        date: format!("2026-{:02}-{:02}", 1 + rng.below(3), 1 + rng.below(4)),
        weight: rng.below(7) as i32 - 3,
        copy: rng.below(4) == 0,
    }
}

/// shop.toml with small pages (so listings paginate), and `cohorts` as `(id, interests)`.
fn shop_toml(base: &str, paginate_by: usize, cohorts: &[(String, Vec<String>)]) -> String {
    let cut = base.find("[[cohorts]]").expect("the fixture has cohorts");
    let mut out = format!("paginate_by = {paginate_by}\n{}", &base[..cut]);
    for (id, interests) in cohorts {
        let interests: Vec<String> = interests.iter().map(|i| format!("\"{i}\"")).collect();
        out.push_str(&format!(
            "[[cohorts]]\nid = \"{id}\"\nlabel = \"{}\"\ninterests = [{}]\n\n",
            id.to_uppercase(),
            interests.join(", ")
        ));
    }
    out
}

#[test]
fn two_hundred_generated_edits_leave_the_served_site_identical_to_a_full_build() {
    let shop = basic_shop();
    let root = shop.path();
    let base_toml = std::fs::read_to_string(root.join("shop.toml")).unwrap();
    let mut rng = Rng(0x00C0_4027_15AB_CDEF);
    let mut products: std::collections::BTreeMap<usize, Gen> = std::collections::BTreeMap::new();
    let mut next_id = 0;
    for _ in 0..24 {
        products.insert(next_id, generated(&mut rng, next_id));
        next_id += 1;
    }
    let file = |id: usize| format!("products/gen-{id:03}.md");
    let sku = |id: usize| format!("GEN-{id:03}");
    for (id, g) in &products {
        write(root, &file(*id), &g.text(&sku(*id)));
    }
    let mut cohorts: Vec<(String, Vec<String>)> =
        vec![("outdoor".into(), vec!["outdoor".into()]), ("kitchen".into(), vec!["kitchen".into()])];
    let mut paginate_by = 4;
    write(root, "shop.toml", &shop_toml(&base_toml, paginate_by, &cohorts));
    let mut pages: Vec<usize> = Vec::new();
    let s = start(root);
    let events = s.events();
    events.next_named("hello");
    assert_identical(&s, root, "the first build of the generated catalog");

    let rebuilds = || s.stderr().lines().filter(|l| l.contains(" changed: ")).count();
    const EDITS: usize = 200;
    for n in 1..=EDITS {
        let before = rebuilds();
        let ids: Vec<usize> = products.keys().copied().collect();
        let id = ids[rng.below(ids.len())];
        let what = match rng.below(14) {
            0 | 1 => {
                let g = products.get_mut(&id).unwrap();
                g.price = 500 + rng.below(20_000) as u32;
                write(root, &file(id), &g.text(&sku(id)));
                format!("price of gen-{id:03}")
            }
            2 => {
                let g = products.get_mut(&id).unwrap();
                let tag = rng.pick(&TAGS).to_string();
                match g.tags.iter().position(|t| *t == tag) {
                    Some(at) if g.tags.len() > 1 => {
                        g.tags.remove(at);
                    }
                    Some(_) => g.tags = vec![rng.pick(&TAGS).to_string()],
                    None => g.tags.push(tag),
                }
                g.tags.sort();
                g.tags.dedup();
                write(root, &file(id), &g.text(&sku(id)));
                format!("tags of gen-{id:03}")
            }
            3 => {
                let g = products.get_mut(&id).unwrap();
                g.category = rng.pick(&CATEGORIES).to_string();
                write(root, &file(id), &g.text(&sku(id)));
                format!("category of gen-{id:03}")
            }
            4 => {
                let g = products.get_mut(&id).unwrap();
                g.title = format!("Item {id} {}", rng.pick(&["Green", "Tall", "Short", "Bold", "Quiet", "New"]));
                write(root, &file(id), &g.text(&sku(id)));
                format!("title of gen-{id:03}")
            }
            5 => {
                let g = products.get_mut(&id).unwrap();
                g.date = format!("2026-{:02}-{:02}", 1 + rng.below(3), 1 + rng.below(4));
                g.availability = AVAILABILITY[rng.below(3)];
                write(root, &file(id), &g.text(&sku(id)));
                format!("date and availability of gen-{id:03}")
            }
            6 => {
                let g = products.get_mut(&id).unwrap();
                g.weight = rng.below(7) as i32 - 3;
                g.copy = !g.copy;
                write(root, &file(id), &g.text(&sku(id)));
                format!("weight and cohort copy of gen-{id:03}")
            }
            7 | 8 => {
                let g = generated(&mut rng, next_id);
                write(root, &file(next_id), &g.text(&sku(next_id)));
                products.insert(next_id, g);
                next_id += 1;
                format!("new product gen-{:03}", next_id - 1)
            }
            9 if products.len() > 6 => {
                products.remove(&id);
                std::fs::remove_file(root.join(file(id))).unwrap();
                format!("deletion of gen-{id:03}")
            }
            10 => {
                let k = match pages.iter().position(|_| rng.below(2) == 0) {
                    Some(at) => pages.remove(at),
                    None => {
                        pages.push(n);
                        n
                    }
                };
                let path = root.join(format!("pages/extra-{k}.md"));
                if pages.contains(&k) {
                    write(
                        root,
                        &format!("pages/extra-{k}.md"),
                        &format!("+++\ntitle = \"Extra {k}\"\n+++\nPage {k}.\n"),
                    );
                    format!("new page extra-{k}")
                } else {
                    std::fs::remove_file(path).unwrap();
                    format!("deletion of page extra-{k}")
                }
            }
            11 => {
                let text = format!("+++\ntitle = \"About us {n}\"\nweight = 1\n+++\nWe are a test shop, edit {n}.\n");
                write(root, "pages/about.md", &text);
                "the about page".to_string()
            }
            12 => {
                let c = rng.below(cohorts.len());
                let interest = if rng.below(2) == 0 { rng.pick(&TAGS) } else { rng.pick(&CATEGORIES) };
                cohorts[c].1 = vec![interest.to_string()];
                if cohorts.len() < 3 && rng.below(2) == 0 {
                    cohorts.push(("budget".into(), vec![rng.pick(&TAGS).to_string()]));
                } else if cohorts.len() == 3 && rng.below(3) == 0 {
                    cohorts.pop();
                }
                write(root, "shop.toml", &shop_toml(&base_toml, paginate_by, &cohorts));
                format!("cohorts in shop.toml: {cohorts:?}")
            }
            _ => {
                paginate_by = 2 + rng.below(5);
                write(root, "shop.toml", &shop_toml(&base_toml, paginate_by, &cohorts));
                format!("paginate_by = {paginate_by}")
            }
        };
        // Each edit is its own rebuild: the next one is written after the server has printed
        // a rebuild line that started after this one.
        let start = Instant::now();
        while rebuilds() <= before {
            assert!(start.elapsed() < REBUILD_TIMEOUT, "no rebuild after edit {n} ({what})\n{}", s.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
        if n % 10 == 0 {
            assert_identical(&s, root, &format!("edit {n} ({what})"));
        }
    }
    assert!(!s.stderr().contains("the build failed"), "a generated edit broke the build:\n{}", s.stderr());
}
