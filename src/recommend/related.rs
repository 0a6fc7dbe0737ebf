//! Related products by content: shared tags, the same category and TF-IDF similarity of
//! the text.
//!
//! The score of item j for item i is
//!
//! ```text
//! 0.5 · cos(text_i, text_j) + 0.35 · cos(tags_i, tags_j) + 0.15 · [same category]
//! ```
//!
//! where text vectors hold `(1 + ln tf) · idf` per word, tag vectors hold `idf` per tag and
//! `idf = ln(1 + N / df)` (always positive, so even a two-product shop has related items).
//! Only items with a positive score are returned; in-stock items come first, then higher
//! scores, then SKU.
//!
//! The text vector of a product keeps only its [`MAX_WORDS_PER_ITEM`] highest-weighted
//! words (the words that characterize it, as Lucene's MoreLikeThis does), and words found in
//! more than [`MAX_TERM_DF`] products are treated as stop words of the catalog and dropped
//! from every vector. Both rules are part of the model, applied to every product alike, so
//! the score stays symmetric and exact under them.
//!
//! Why it is shaped like this: comparing all pairs costs N² (10¹⁰ at 100,000 products). An
//! inverted index makes the cost proportional to the postings actually shared:
//!
//! * text and *small* tags (at most [`CANDIDATES_PER_LIST`] products): for each word or tag
//!   of item i, walk its posting list and accumulate `w_i · w_j` in a scratch array (one per
//!   worker, reused; a stamp per slot avoids clearing it between items). Words in a single
//!   product have no posting list (they can only match the product itself).
//! * *big* tags and the category: their posting lists only *propose candidates*, the first
//!   [`CANDIDATES_PER_LIST`] entries of each in the tie-break order (in stock, then SKU).
//!   Every candidate's big-tag and category score is then computed exactly, from a
//!   membership bitset per big tag and the category id. So the score of every candidate is
//!   exact; what is approximate for big catalogs is only the candidate set: a product that
//!   shares with i nothing but big tags or the category, and lies beyond the first 100 of
//!   those lists, is not considered. For a shop with at most 100 products per tag and
//!   category the result is exactly the top n by the score above.
//! * The best n are kept in a small sorted array while candidates stream by (one comparison
//!   per candidate in the common case); what scoring reads about a candidate is packed in
//!   one 24-byte record, because at 100,000 products cache misses dominate the cost.
//!
//! Products are processed in parallel chunks (rayon); each result depends only on the
//! index, so output is identical whatever the thread count.

use super::{Item, Reason, Rec, stock_then};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a with a final mix: interning millions of short words with SipHash is the slowest
/// part of building the index, and the keys come from the merchant's own catalog.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        let x = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^ (x >> 32)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type WordMap = HashMap<String, u32, BuildHasherDefault<WordHasher>>;

/// Words found in more products than this are ignored (stop words of the catalog).
pub(crate) const MAX_TERM_DF: usize = 300;
/// Each product's text is represented by its this many highest-weighted words.
pub(crate) const MAX_WORDS_PER_ITEM: usize = 24;
/// Candidates proposed by one tag's or one category's posting list.
pub(crate) const CANDIDATES_PER_LIST: usize = 100;

const W_TEXT: f32 = 0.5;
const W_TAGS: f32 = 0.35;
const W_CATEGORY: f32 = 0.15;
/// Shared features named in a reason.
const SHARED_IN_REASON: usize = 3;

const STOP_WORDS: &[&str] = &[
    "about", "all", "also", "an", "and", "any", "are", "as", "at", "be", "but", "by", "can", "do", "each", "for",
    "from", "has", "have", "if", "in", "into", "is", "it", "its", "just", "more", "most", "no", "not", "of", "on",
    "one", "or", "our", "so", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to",
    "too", "up", "was", "we", "were", "what", "when", "which", "while", "who", "will", "with", "you", "your",
];

/// The length in bytes of the longest of [`STOP_WORDS`].
const LONGEST_STOP_WORD: usize = 5;

/// The first eight bytes of a word as one big-endian integer (zero-padded): comparing two
/// keys orders words as comparing the strings does, and since words hold no zero byte, two
/// words of at most eight bytes are equal exactly when their keys are.
const fn prefix_key(w: &[u8]) -> u64 {
    let mut key = [0u8; 8];
    let mut i = 0;
    while i < w.len() && i < 8 {
        key[i] = w[i];
        i += 1;
    }
    u64::from_be_bytes(key)
}

/// [`STOP_WORDS`] as [`prefix_key`]s, in the same (ascending) order: a word of at most
/// [`LONGEST_STOP_WORD`] bytes is a stop word when its key is among them, which costs no
/// string comparison.
const STOP_KEYS: [u64; STOP_WORDS.len()] = {
    let mut keys = [0u64; STOP_WORDS.len()];
    let mut i = 0;
    while i < STOP_WORDS.len() {
        keys[i] = prefix_key(STOP_WORDS[i].as_bytes());
        i += 1;
    }
    keys
};

/// Lowercased words of at least two characters, without stop words and pure numbers.
#[cfg(test)]
pub(crate) fn tokens(text: &str) -> Vec<String> {
    words(text).map(|(_, w)| w.into_owned()).collect()
}

/// [`tokens`] with each word's [`prefix_key`], borrowing each word that is already
/// lowercase ASCII (most words of a catalog): tokenizing 100,000 descriptions allocated a
/// string per word.
fn words(text: &str) -> impl Iterator<Item = (u64, Cow<'_, str>)> {
    text.split(|c: char| !c.is_alphanumeric()).filter_map(|word| {
        let lower: Cow<'_, str> = if word.is_ascii() {
            if word.len() < 2 || word.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            if word.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(word.to_ascii_lowercase())
            } else {
                Cow::Borrowed(word)
            }
        } else {
            if word.chars().nth(1).is_none() || word.chars().all(|c| c.is_numeric()) {
                return None;
            }
            Cow::Owned(word.to_lowercase())
        };
        let key = prefix_key(lower.as_bytes());
        // Most words are longer than any stop word: they skip the search.
        (lower.len() > LONGEST_STOP_WORD || STOP_KEYS.binary_search(&key).is_err()).then_some((key, lower))
    })
}

/// Each distinct word of `text` ([`words`]) with its count, in byte order of the words.
/// Sorted by [`prefix_key`], so that only words longer than eight bytes sharing their first
/// eight need a string comparison.
fn word_counts(text: &str) -> Vec<(Cow<'_, str>, u32)> {
    let mut toks: Vec<(u64, Cow<'_, str>)> = words(text).collect();
    let short = |a: &str, b: &str| a.len() <= 8 && b.len() <= 8;
    toks.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| if short(&a.1, &b.1) { std::cmp::Ordering::Equal } else { a.1.cmp(&b.1) })
    });
    let mut counts: Vec<(Cow<'_, str>, u32)> = Vec::new();
    let mut last_key = 0;
    for (key, word) in toks {
        match counts.last_mut() {
            Some((last, c)) if key == last_key && (short(last, &word) || **last == *word) => *c += 1,
            _ => {
                last_key = key;
                counts.push((word, 1));
            }
        }
    }
    counts
}

/// Normalized form of a tag or category: trimmed and lowercased.
pub(crate) fn norm_label(s: &str) -> String {
    s.trim().to_lowercase()
}

fn idf(n: usize, df: usize) -> f32 {
    (1.0 + n as f64 / df.max(1) as f64).ln() as f32
}

fn normalize(v: &mut [(u32, f32)]) {
    let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, w) in v.iter_mut() {
            *w /= norm;
        }
    }
}

const NO_CATEGORY: u32 = u32::MAX;
const NOT_BIG: u32 = u32::MAX;

/// The inverted index over a catalog: its words, tags and categories, and per item what
/// scoring a candidate reads.
struct Index {
    text: TextIndex,
    tags: TagIndex,
    categories: CategoryIndex,
    /// Per item: what scoring a candidate needs (see [`Meta`]).
    meta: Vec<Meta>,
}

fn intern(map: &mut WordMap, names: &mut Vec<String>, s: &str) -> u32 {
    if let Some(&id) = map.get(s) {
        return id;
    }
    let id = names.len() as u32;
    names.push(s.to_string());
    map.insert(s.to_string(), id);
    id
}

/// The description words of every item, weighted (TF-IDF, normalized) and inverted.
struct TextIndex {
    words: Vec<String>,
    /// Per item: normalized text vector, sorted by word id.
    vectors: Vec<Vec<(u32, f32)>>,
    /// Per word: (item, weight), in item order.
    postings: Vec<Vec<(u32, f32)>>,
}

/// Word counts per item in parallel, a batch at a time so that the tokenized text of the
/// whole catalog is never held at once; ids are then given in item order (deterministic).
fn text_index(items: &[Item]) -> TextIndex {
    let n = items.len();
    let mut word_ids = WordMap::default();
    let mut words = Vec::new();
    let mut raw_text: Vec<Vec<(u32, u32)>> = Vec::with_capacity(n);
    for batch in items.chunks(8192) {
        let counted: Vec<Vec<(Cow<'_, str>, u32)>> = batch.par_iter().map(|item| word_counts(&item.text)).collect();
        for counts in counted {
            let mut v: Vec<(u32, u32)> =
                counts.into_iter().map(|(w, c)| (intern(&mut word_ids, &mut words, &w), c)).collect();
            v.sort_unstable();
            raw_text.push(v);
        }
    }
    drop(word_ids);
    let mut df = vec![0usize; words.len()];
    for v in &raw_text {
        for &(w, _) in v {
            df[w as usize] += 1;
        }
    }
    let word_idf: Vec<f32> = df.iter().map(|&d| idf(n, d)).collect();
    let text: Vec<Vec<(u32, f32)>> = raw_text
        .into_par_iter()
        .map(|v| {
            let mut out: Vec<(u32, f32)> = v
                .into_iter()
                .filter(|&(w, _)| df[w as usize] <= MAX_TERM_DF)
                .map(|(w, tf)| (w, (1.0 + (tf as f32).ln()) * word_idf[w as usize]))
                .collect();
            if out.len() > MAX_WORDS_PER_ITEM {
                out.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                out.truncate(MAX_WORDS_PER_ITEM);
                out.sort_unstable_by_key(|&(w, _)| w);
            }
            normalize(&mut out);
            out
        })
        .collect();
    let mut text_postings: Vec<Vec<(u32, f32)>> =
        df.iter().map(|&d| if (2..=MAX_TERM_DF).contains(&d) { Vec::with_capacity(d) } else { Vec::new() }).collect();
    for (i, v) in text.iter().enumerate() {
        for &(w, wt) in v {
            if df[w as usize] >= 2 {
                text_postings[w as usize].push((i as u32, wt));
            }
        }
    }

    TextIndex { words, vectors: text, postings: text_postings }
}

/// The tags of every item: weights, posting lists for small tags, bitsets and first
/// candidates for big ones.
struct TagIndex {
    names: Vec<String>,
    /// Per item: normalized tag vector, sorted by tag id.
    vectors: Vec<Vec<(u32, f32)>>,
    /// Per big tag: the first CANDIDATES_PER_LIST items in tie-break order.
    candidates: Vec<Vec<u32>>,
    /// Per small tag (at most CANDIDATES_PER_LIST items): (item, weight), in item order.
    postings: Vec<Vec<(u32, f32)>>,
    idf: Vec<f32>,
    /// Per tag: its bitset number if it is big, else NOT_BIG.
    big: Vec<u32>,
    big_bits: Vec<Vec<u64>>,
    /// Per item: see [`Meta::big_mask`].
    big_mask: Vec<u64>,
    /// Per item: see [`Meta::tag_inv_norm`].
    inv_norm: Vec<f32>,
}

fn tag_index(items: &[Item], order: &[usize]) -> TagIndex {
    let n = items.len();
    let mut tag_ids = WordMap::default();
    let mut tag_names = Vec::new();
    let mut raw_tags: Vec<Vec<u32>> = Vec::with_capacity(n);
    for item in items {
        let mut v: Vec<u32> = item
            .tags
            .iter()
            .map(|t| norm_label(t))
            .filter(|t| !t.is_empty())
            .map(|t| intern(&mut tag_ids, &mut tag_names, &t))
            .collect();
        v.sort_unstable();
        v.dedup();
        raw_tags.push(v);
    }
    let mut tag_df = vec![0usize; tag_names.len()];
    for v in &raw_tags {
        for &t in v {
            tag_df[t as usize] += 1;
        }
    }
    let tag_idf: Vec<f32> = tag_df.iter().map(|&d| idf(n, d)).collect();
    let mut tag_inv_norm = Vec::with_capacity(n);
    let tags: Vec<Vec<(u32, f32)>> = raw_tags
        .iter()
        .map(|v| {
            let norm = v.iter().map(|&t| tag_idf[t as usize].powi(2)).sum::<f32>().sqrt();
            let inv = if norm > 0.0 { 1.0 / norm } else { 0.0 };
            tag_inv_norm.push(inv);
            v.iter().map(|&t| (t, tag_idf[t as usize] * inv)).collect()
        })
        .collect();
    // Small tags: full posting lists with weights. Big tags: a membership bitset for
    // exact scoring plus the first CANDIDATES_PER_LIST items (tie-break order) as proposals.
    let mut tag_postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); tag_names.len()];
    let mut big_tag: Vec<u32> = vec![NOT_BIG; tag_names.len()];
    let mut big_tag_bits: Vec<Vec<u64>> = Vec::new();
    for (t, &d) in tag_df.iter().enumerate() {
        if d > CANDIDATES_PER_LIST {
            big_tag[t] = big_tag_bits.len() as u32;
            big_tag_bits.push(vec![0u64; n.div_ceil(64)]);
        }
    }
    let mut tag_candidates: Vec<Vec<u32>> = vec![Vec::new(); tag_names.len()];
    for (i, v) in tags.iter().enumerate() {
        for &(t, w) in v {
            match big_tag[t as usize] {
                NOT_BIG => tag_postings[t as usize].push((i as u32, w)),
                b => big_tag_bits[b as usize][i / 64] |= 1 << (i % 64),
            }
        }
    }
    let big_mask: Vec<u64> = raw_tags
        .iter()
        .map(|v| {
            v.iter()
                .filter(|&&t| big_tag[t as usize] != NOT_BIG)
                .fold(0u64, |m, &t| m | 1 << (big_tag[t as usize] % 64))
        })
        .collect();
    for &i in order {
        for &t in &raw_tags[i] {
            let list = &mut tag_candidates[t as usize];
            if big_tag[t as usize] != NOT_BIG && list.len() < CANDIDATES_PER_LIST {
                list.push(i as u32);
            }
        }
    }

    TagIndex {
        names: tag_names,
        vectors: tags,
        candidates: tag_candidates,
        postings: tag_postings,
        idf: tag_idf,
        big: big_tag,
        big_bits: big_tag_bits,
        big_mask,
        inv_norm: tag_inv_norm,
    }
}

/// The category of every item and each category's first candidates.
struct CategoryIndex {
    names: Vec<String>,
    /// Per item: its category id, or NO_CATEGORY.
    of_item: Vec<u32>,
    /// Per category: the first CANDIDATES_PER_LIST items in tie-break order.
    candidates: Vec<Vec<u32>>,
}

fn category_index(items: &[Item], order: &[usize]) -> CategoryIndex {
    let mut cat_ids = WordMap::default();
    let mut category_names = Vec::new();
    let category: Vec<u32> = items
        .iter()
        .map(|item| {
            let c = norm_label(&item.category);
            if c.is_empty() { NO_CATEGORY } else { intern(&mut cat_ids, &mut category_names, &c) }
        })
        .collect();
    let mut category_candidates: Vec<Vec<u32>> = vec![Vec::new(); category_names.len()];
    for &i in order {
        if category[i] != NO_CATEGORY {
            let list = &mut category_candidates[category[i] as usize];
            if list.len() < CANDIDATES_PER_LIST {
                list.push(i as u32);
            }
        }
    }
    CategoryIndex { names: category_names, of_item: category, candidates: category_candidates }
}

impl Index {
    fn build(items: &[Item]) -> Index {
        let n = items.len();
        let text = text_index(items);
        // Tie-break order for candidate lists: in stock first, then SKU, then index.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| stock_then(items, a, b, || std::cmp::Ordering::Equal));
        let tags = tag_index(items, &order);
        let categories = category_index(items, &order);
        let meta = (0..n)
            .map(|i| Meta {
                big_mask: tags.big_mask[i],
                tag_inv_norm: tags.inv_norm[i],
                category: categories.of_item[i],
                in_stock: items[i].in_stock,
            })
            .collect();
        Index { text, tags, categories, meta }
    }

    fn same_category(&self, i: usize, j: usize) -> bool {
        self.categories.of_item[i] != NO_CATEGORY && self.categories.of_item[i] == self.categories.of_item[j]
    }

    /// Up to three shared features, most specific first: tags (rarest first), the category,
    /// then words (largest contribution first). A word equal to a listed tag is not repeated.
    fn shared(&self, i: usize, j: usize) -> Vec<String> {
        let mut tags: Vec<(f32, &str)> = Vec::new();
        for &(t, w) in &self.tags.vectors[i] {
            if self.tags.vectors[j].binary_search_by_key(&t, |&(x, _)| x).is_ok() {
                tags.push((w, &self.tags.names[t as usize]));
            }
        }
        tags.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let mut out: Vec<String> = tags.into_iter().map(|(_, t)| t.to_string()).collect();
        if self.same_category(i, j) {
            out.push(self.categories.names[self.categories.of_item[i] as usize].clone());
        }
        if out.len() < SHARED_IN_REASON {
            let mut words: Vec<(f32, &str)> = Vec::new();
            let b = &self.text.vectors[j];
            for &(w, wi) in &self.text.vectors[i] {
                if let Ok(k) = b.binary_search_by_key(&w, |&(x, _)| x) {
                    words.push((wi * b[k].1, &self.text.words[w as usize]));
                }
            }
            words.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            for (_, w) in words {
                if out.len() >= SHARED_IN_REASON {
                    break;
                }
                if !out.iter().any(|o| o == w) {
                    out.push(w.to_string());
                }
            }
        }
        out.truncate(SHARED_IN_REASON);
        out
    }
}

/// What scoring a candidate reads, packed together so that one cache line serves it.
#[derive(Clone, Copy)]
struct Meta {
    /// Bit (b % 64) set for each of the item's big tags b: a zero AND proves that no big
    /// tag is shared without touching the bitsets.
    big_mask: u64,
    /// 1 / norm of the item's tag vector (a tag's weight is idf · this).
    tag_inv_norm: f32,
    category: u32,
    in_stock: bool,
}

/// Per-worker scratch space, reused across the items of a chunk.
struct Scratch {
    /// Per item: (accumulated score, stamp); a slot whose stamp is not the current item's
    /// counts as zero, so nothing needs resetting between items.
    slots: Vec<(f32, u32)>,
    stamp: u32,
    touched: Vec<u32>,
    candidates: Vec<(bool, f32, usize)>,
    /// The big tags of the current item: (bitset, W_TAGS · its weight · idf, its weight).
    big: Vec<(u32, f32, f32)>,
    /// The current item's words, heaviest first.
    words: Vec<(u32, f32)>,
}

impl Scratch {
    /// The accumulator of item `j`, recording it as a candidate on first touch.
    #[inline]
    fn touch(&mut self, j: usize) -> &mut f32 {
        let slot = &mut self.slots[j];
        if slot.1 != self.stamp {
            *slot = (0.0, self.stamp);
            self.touched.push(j as u32);
        }
        &mut slot.0
    }
}

fn related_one(items: &[Item], index: &Index, i: usize, n: usize, s: &mut Scratch) -> Vec<Rec> {
    s.stamp = i as u32;
    s.touched.clear();
    // Heaviest words first: candidates sharing the most specific words are touched first,
    // so the top n fills early with good scores and the bound below prunes more.
    let mut words = std::mem::take(&mut s.words);
    words.clear();
    words.extend_from_slice(&index.text.vectors[i]);
    words.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for &(w, wi) in &words {
        for &(j, wj) in &index.text.postings[w as usize] {
            let j = j as usize;
            *s.touch(j) += W_TEXT * wi * wj;
        }
    }
    s.words = words;
    s.big.clear();
    for &(t, wi) in &index.tags.vectors[i] {
        let t = t as usize;
        if index.tags.big[t] == NOT_BIG {
            for &(j, wj) in &index.tags.postings[t] {
                let j = j as usize;
                *s.touch(j) += W_TAGS * wi * wj;
            }
        } else {
            s.big.push((index.tags.big[t], W_TAGS * wi * index.tags.idf[t], wi));
            for &j in &index.tags.candidates[t] {
                s.touch(j as usize);
            }
        }
    }
    if index.categories.of_item[i] != NO_CATEGORY {
        for &j in &index.categories.candidates[index.categories.of_item[i] as usize] {
            s.touch(j as usize);
        }
    }
    // In stock first, then score, then SKU (the same order as `stock_then`, with the two
    // first keys copied into the candidate so the selection does not touch `items`).
    let cmp = |a: &(bool, f32, usize), b: &(bool, f32, usize)| {
        b.0.cmp(&a.0)
            .then_with(|| b.1.total_cmp(&a.1))
            .then_with(|| stock_then(items, a.2, b.2, || std::cmp::Ordering::Equal))
    };
    // What big tags and the category can add to a candidate's accumulated score at most
    // (a tag weight is at most 1 in a normalized vector).
    let extra = s.big.iter().map(|&(_, _, wi)| W_TAGS * wi).sum::<f32>()
        + if index.categories.of_item[i] != NO_CATEGORY { W_CATEGORY } else { 0.0 };
    // The best `n` so far, best first: one comparison per candidate in the common case.
    s.candidates.clear();
    for &j in &s.touched {
        let j = j as usize;
        let mut score = s.slots[j].0;
        if j == i {
            continue;
        }
        // Cannot beat the current n-th (in stock) result even with every possible extra:
        // skip it without reading its metadata (a cache miss at 100,000 products).
        if s.candidates.len() == n && n > 0 && s.candidates[n - 1].0 && score + extra + 1e-5 < s.candidates[n - 1].1 {
            continue;
        }
        let mj = index.meta[j];
        let shares_big = index.meta[i].big_mask & mj.big_mask != 0;
        for &(b, coef, _) in s.big.iter().filter(|_| shares_big) {
            if index.tags.big_bits[b as usize][j / 64] & (1 << (j % 64)) != 0 {
                score += coef * mj.tag_inv_norm;
            }
        }
        if mj.category != NO_CATEGORY && mj.category == index.meta[i].category {
            score += W_CATEGORY;
        }
        if score > 1e-6 && n > 0 {
            let c = (mj.in_stock, score, j);
            let full = s.candidates.len() == n;
            if full && cmp(&c, &s.candidates[n - 1]) != std::cmp::Ordering::Less {
                continue;
            }
            if full {
                s.candidates.pop();
            }
            let at = s.candidates.partition_point(|x| cmp(x, &c) == std::cmp::Ordering::Less);
            s.candidates.insert(at, c);
        }
    }
    s.touched.clear();
    s.candidates
        .iter()
        .map(|&(_, _, j)| Rec { index: j, reason: Reason::SimilarTo { to: i, shared: index.shared(i, j) } })
        .collect()
}

/// Up to `n` related items for every item (`result[i]` is for `items[i]`), never the item
/// itself, in-stock first, then by similarity, then SKU. Items with nothing in common are
/// not listed, so a list can be shorter than `n`.
pub fn related(items: &[Item], n: usize) -> Vec<Vec<Rec>> {
    if items.is_empty() {
        return Vec::new();
    }
    let index = Index::build(items);
    let len = items.len();
    let chunk = len.div_ceil(rayon::current_num_threads().max(1) * 8).max(16);
    let starts: Vec<usize> = (0..len).step_by(chunk).collect();
    let chunks: Vec<Vec<Vec<Rec>>> = starts
        .into_par_iter()
        .map(|start| {
            let mut scratch = Scratch {
                slots: vec![(0.0, u32::MAX); len],
                stamp: 0,
                touched: Vec::new(),
                candidates: Vec::new(),
                big: Vec::new(),
                words: Vec::new(),
            };
            (start..(start + chunk).min(len)).map(|i| related_one(items, &index, i, n, &mut scratch)).collect()
        })
        .collect();
    chunks.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(STOP_WORDS.iter().map(|w| w.len()).max(), Some(LONGEST_STOP_WORD));
        assert!(STOP_KEYS.windows(2).all(|w| w[0] < w[1]));
        for w in STOP_WORDS {
            assert!(words(&format!("x {w} y")).all(|(_, t)| t != *w), "{w} is dropped");
        }
    }

    #[test]
    fn tokenizer() {
        assert_eq!(
            tokens("The Trail-Runner 2, for WET trails; 42 Über"),
            vec!["trail", "runner", "wet", "trails", "über"]
        );
        // Counted in byte order, with words sharing their first eight bytes told apart.
        let counts = word_counts("Waterproofing waterproofed WATERPROOFING zz ab Ab abc Über waterpro waterpro");
        let counts: Vec<(&str, u32)> = counts.iter().map(|(w, c)| (&**w, *c)).collect();
        assert_eq!(
            counts,
            [("ab", 2), ("abc", 1), ("waterpro", 2), ("waterproofed", 1), ("waterproofing", 2), ("zz", 1), ("über", 1)]
        );
    }
}
