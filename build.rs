//! Embeds the built-in themes (`themes/`) in the binary, so `cohort init` and `cohort build`
//! work on a machine that has only the executable.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=themes");
    // Read at run time, not baked in with env!: a build script binary reused from a shared
    // target folder must embed this checkout's themes, not those of the one that built it.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let root = Path::new(&manifest_dir).join("themes");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut out = String::from(
        "/// Built-in theme files: (path under themes/, bytes).\npub(crate) static FILES: &[(&str, &[u8])] = &[\n",
    );
    for rel in files {
        // The path is resolved when the crate compiles, so the bytes always come from the
        // checkout being built, even with a build script output shared between checkouts.
        let _ =
            writeln!(out, "    ({rel:?}, include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/themes/{rel}\"))),");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("builtin_themes.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            files.push(rel);
        }
    }
}
