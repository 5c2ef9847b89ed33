//! The documentation a user reads: the README and every chapter of the book.

use std::path::{Path, PathBuf};

/// `README.md` and the Markdown files under `docs/src/`, in a stable order.
pub fn all() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    let mut book = Vec::new();
    collect(&root.join("docs/src"), &mut book);
    book.sort();
    pages.extend(book);
    pages
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, found);
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
}

/// Every page's text, with its path for messages.
pub fn texts() -> Vec<(PathBuf, String)> {
    all()
        .into_iter()
        .map(|page| {
            let text = std::fs::read_to_string(&page).unwrap();
            (page, text)
        })
        .collect()
}
