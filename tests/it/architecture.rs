//! The shape of the sources, checked: no import cycle between top-level modules or
//! between the files of one module, clap seen only by `cli/`, the architecture chapter
//! naming every module and every crate once, and no crate depending on one listed after
//! it. The crates under `crates/` re-export into the harness's one module tree, so their
//! modules are read as modules of it. Imports are read from the source text (`crate::`
//! and `super::` paths, use trees expanded), tests left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The source folders: the harness's `src/` and each `crates/*/src/`.
fn source_roots() -> Vec<PathBuf> {
    let mut roots = vec![root().join("src")];
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        roots.push(entry.unwrap().path().join("src"));
    }
    roots.sort();
    roots
}

/// Module path -> its source, for every file of every source folder.
fn every_source() -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for dir in source_roots() {
        collect(&dir, "", &mut found);
    }
    found
}

/// Module path -> its source, for every file of every source folder but the crate roots.
fn sources() -> BTreeMap<String, String> {
    let mut found = every_source();
    found.remove("lib");
    found.remove("main");
    found
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `a/b.rs` and `a/b/mod.rs` are module `a::b`.
fn collect(dir: &Path, prefix: &str, found: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path: PathBuf = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let joined = match prefix {
            "" => name.clone(),
            _ => format!("{prefix}::{name}"),
        };
        if path.is_dir() {
            collect(&path, &joined, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = if name == "mod" { prefix.to_owned() } else { joined };
            found.insert(module, std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The code of a file: its tests and comments left out.
fn code(source: &str) -> String {
    let source = source.split("#[cfg(test)]").next().unwrap();
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path `module`'s code names through `crate::` or `super::`, as segments.
fn named_paths(module: &str, code: &str) -> Vec<Vec<String>> {
    let parent: Vec<String> = {
        let mut segments: Vec<String> = module.split("::").map(str::to_owned).collect();
        segments.pop();
        segments
    };
    let mut paths = Vec::new();
    for (start, anchor) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut rest = code;
        while let Some(at) = rest.find(start) {
            let preceded_by_ident = rest[..at]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            rest = &rest[at + start.len()..];
            if !preceded_by_ident {
                paths.extend(expand(&anchor, rest));
            }
        }
    }
    paths
}

/// The path at the start of `text` after `prefix::`, a use tree `{a, b::{c, d}}` expanded.
fn expand(prefix: &[String], text: &str) -> Vec<Vec<String>> {
    let mut path = prefix.to_vec();
    let mut rest = text;
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            if let Some(tree) = rest.strip_prefix('{') {
                return split_tree(tree)
                    .iter()
                    .flat_map(|item| expand(&path, item.trim()))
                    .collect();
            }
            return vec![path];
        }
        rest = &rest[ident.len()..];
        path.push(ident);
        match rest.strip_prefix("::") {
            Some(more) => rest = more,
            None => return vec![path],
        }
    }
}

/// The items of a use tree's braces, up to its closing brace, split at top-level commas.
fn split_tree(tree: &str) -> Vec<&str> {
    let (mut depth, mut from, mut items) = (0usize, 0, Vec::new());
    for (at, c) in tree.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&tree[from..at]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&tree[from..at]);
                from = at + 1;
            }
            _ => {}
        }
    }
    items
}

/// Module -> the modules it imports (the longest prefix of each path that is one).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let sources = sources();
    let mut graph = BTreeMap::new();
    for (module, source) in &sources {
        let targets: BTreeSet<String> = named_paths(module, &code(source))
            .into_iter()
            .filter_map(|path| {
                (1..=path.len())
                    .rev()
                    .map(|n| path[..n].join("::"))
                    .find(|prefix| sources.contains_key(prefix))
            })
            .filter(|target| target != module)
            .collect();
        graph.insert(module.clone(), targets);
    }
    graph
}

/// The groups of nodes that reach each other (Tarjan), those of two or more.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            for next in self.graph.get(node).into_iter().flatten() {
                if !self.index.contains_key(next.as_str()) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next.as_str()]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next.as_str()) {
                    let low = self.low[node].min(self.index[next.as_str()]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let at = self.stack.iter().rposition(|n| *n == node).unwrap();
                let mut group: Vec<String> = self.stack.drain(at..).map(str::to_owned).collect();
                group.sort();
                if group.len() > 1 {
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.found
}

/// The import graph seen at one level: each module stands for itself and everything
/// under it; `parent` "" is the top level, else the children of `parent`.
fn level(graph: &BTreeMap<String, BTreeSet<String>>, parent: &str) -> BTreeMap<String, BTreeSet<String>> {
    let child = |module: &str| -> Option<String> {
        let rest = match parent {
            "" => module,
            _ => module.strip_prefix(parent)?.strip_prefix("::")?,
        };
        let first = rest.split("::").next()?;
        Some(match parent {
            "" => first.to_owned(),
            _ => format!("{parent}::{first}"),
        })
    };
    let mut level: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in graph {
        let Some(from) = child(from) else { continue };
        for target in targets.iter().filter_map(|t| child(t)) {
            if target != from {
                level.entry(from.clone()).or_default().insert(target);
            }
        }
    }
    level
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = imports();
    assert!(
        graph.len() > 100,
        "the sources were read: {} modules",
        graph.len()
    );
    let parents: BTreeSet<String> = graph
        .keys()
        .flat_map(|module| {
            let segments: Vec<&str> = module.split("::").collect();
            (1..segments.len()).map(move |n| segments[..n].join("::"))
        })
        .chain([String::new()])
        .collect();
    let found: Vec<(String, Vec<String>)> = parents
        .iter()
        .flat_map(|parent| {
            cycles(&level(&graph, parent))
                .into_iter()
                .map(move |c| (parent.clone(), c))
        })
        .collect();
    assert!(found.is_empty(), "import cycles (level, modules): {found:?}");
}

#[test]
fn the_cycle_finder_sees_a_cycle_through_a_use_tree() {
    let paths = named_paths("a::b", "use crate::{x::{Y, z::W}, q};\nuse super::c::D;");
    let names: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(names, ["x::Y", "x::z::W", "q", "a::c::D"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a::b", vec!["c::d"]),
        ("c::d", vec!["e"]),
        ("e", vec!["a::x"]),
        ("a::x", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(cycles(&level(&graph, "")), [vec!["a", "c", "e"]]);
    assert!(cycles(&level(&graph, "a")).is_empty());
}

#[test]
fn only_the_command_line_sees_clap() {
    let outside: Vec<String> = every_source()
        .iter()
        .filter(|(module, _)| *module != "cli" && !module.starts_with("cli::"))
        .filter(|(_, source)| source.contains("clap::") || source.contains("use clap"))
        .map(|(module, _)| module.clone())
        .collect();
    assert!(outside.is_empty(), "clap outside cli/: {outside:?}");
}

/// The modules the architecture chapter lists: lines "- `a::b`: what it is".
fn modules_documented() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("docs/src/architecture.md")).unwrap();
    text.lines()
        .filter_map(|line| line.trim_start().strip_prefix("- `"))
        .filter_map(|rest| rest.split_once("`: "))
        .map(|(module, _)| module.to_owned())
        .collect()
}

#[test]
fn the_architecture_chapter_names_every_module_once() {
    let in_source: BTreeSet<String> = every_source().into_keys().collect();
    let documented = modules_documented();
    let listed: BTreeSet<String> = documented.iter().cloned().collect();
    assert_eq!(documented.len(), listed.len(), "a module listed twice");
    let undocumented: Vec<_> = in_source.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&in_source).collect();
    assert!(
        undocumented.is_empty() && gone.is_empty(),
        "docs/src/architecture.md: not listed {undocumented:?}; listed but not in the sources {gone:?}"
    );
}

/// The crates the architecture chapter lists, lowest first: lines "1. `dir` (`name`): ...".
fn crates_documented() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("docs/src/architecture.md")).unwrap();
    text.lines()
        .filter_map(|line| {
            let (number, rest) = line.split_once(". `")?;
            number.parse::<u32>().ok()?;
            Some(rest.split_once('`')?.0.to_owned())
        })
        .collect()
}

/// The workspace folders (relative, "." for the harness) a crate's manifest names by path.
fn path_dependencies(dir: &str) -> Vec<String> {
    let manifest = root().join(dir).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    let base = root().canonicalize().unwrap();
    ["dependencies", "dev-dependencies", "build-dependencies"]
        .iter()
        .filter_map(|kind| table.get(*kind).and_then(|deps| deps.as_table()))
        .flat_map(|deps| deps.values())
        .filter_map(|dep| dep.get("path").and_then(|path| path.as_str()))
        .map(|path| {
            let target = root().join(dir).join(path).canonicalize().unwrap();
            let relative = target.strip_prefix(&base).unwrap().to_string_lossy().into_owned();
            if relative.is_empty() {
                ".".to_owned()
            } else {
                relative
            }
        })
        .collect()
}

#[test]
fn no_crate_depends_on_one_listed_after_it() {
    let documented = crates_documented();
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.toml")).unwrap()).unwrap();
    let mut members: Vec<String> = manifest["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect();
    members.sort();
    let mut listed = documented.clone();
    listed.sort();
    assert_eq!(
        listed, members,
        "docs/src/architecture.md lists each workspace member once"
    );
    let against: Vec<(String, String)> = documented
        .iter()
        .enumerate()
        .flat_map(|(at, krate)| {
            let below = &documented[..at];
            path_dependencies(krate)
                .into_iter()
                .filter(|dep| !below.contains(dep))
                .map(|dep| (krate.clone(), dep))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        against.is_empty(),
        "crates depending on one listed after them (crate, dependency): {against:?}"
    );
}
