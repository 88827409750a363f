//! The shape of the code, checked: modules do not import each other back, every table's SQL
//! lives in the module that owns it, and the README's layout names every module.
//!
//! These read the source files of `host/src` (comments and `#[cfg(test)]` parts aside), so a
//! change that breaks a rule fails here with the file and line to look at.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The module that owns each table: only its files write it, and others read it through its
/// functions.
const OWNERS: &[(&str, &str)] = &[
    ("organizations", "platform"),
    ("users", "platform"),
    ("memberships", "platform"),
    ("sessions", "platform"),
    ("api_keys", "platform"),
    ("platform_reviewers", "platform"),
    ("projects", "platform"),
    ("tasks", "platform"),
    ("events", "platform"),
    ("apps", "catalog"),
    ("apps_fts", "catalog"),
    ("app_versions", "catalog"),
    ("components", "catalog"),
    ("ratings", "catalog"),
    ("app_media", "catalog"),
    ("app_images", "catalog"),
    ("publishers", "catalog"),
    ("subscriptions", "billing"),
    ("charges", "billing"),
    ("installations", "installs"),
    ("invocations", "runtime"),
    ("app_connection_clients", "capabilities"),
    ("installation_connections", "capabilities"),
    ("connection_sign_ins", "capabilities"),
    ("installation_triggers", "installs"),
    ("recordings", "runtime"),
    ("plugin_kv", "capabilities"),
    ("deliveries", "events"),
    ("delivery_attempts", "events"),
    ("usage_hourly", "events"),
    ("subscriber_health", "events"),
    ("delivery_lanes", "events"),
    ("hooks", "webhooks"),
    ("webhook_secrets", "webhooks"),
    ("oauth_tokens", "oauth"),
    ("oauth_codes", "oauth"),
    ("oauth_client_secrets", "oauth"),
];

/// Reads of another module's table that stay joins, each for a reason; never a write.
const READ_JOINS: &[(&str, &str, &str)] = &[
    (
        "oauth/grants.rs",
        "installations",
        "a token is live only while its installation is: checked in the token's own query (the bearer-token hot path)",
    ),
    (
        "oauth/grants.rs",
        "apps",
        "likewise, while its app is not suspended",
    ),
    (
        "installs/mod.rs",
        "apps",
        "an installation runs its pinned version of an active app: read with it",
    ),
    (
        "installs/mod.rs",
        "app_versions",
        "likewise, the pinned version's manifest",
    ),
    (
        "installs/checks.rs",
        "apps",
        "the hooks of live installations, in one query per API request",
    ),
    (
        "installs/checks.rs",
        "app_versions",
        "likewise, the manifests that declare the hook",
    ),
    (
        "installs/extensions.rs",
        "apps",
        "the UI of live installations at a place, in one query per task or project page",
    ),
    (
        "installs/extensions.rs",
        "app_versions",
        "likewise, the manifests that name the place",
    ),
    (
        "catalog/search.rs",
        "organizations",
        "a card and a review name their organizations: joined in the catalog's one query per page",
    ),
    (
        "runtime/journal.rs",
        "installations",
        "a call that ended as its installation was uninstalled leaves no row: one query per installation per batch",
    ),
    (
        "webhooks/rest_hooks.rs",
        "api_keys",
        "a REST hook lives while its API key is not revoked: one query per fan-out batch",
    ),
    (
        "webhooks/rest_hooks.rs",
        "installations",
        "likewise, while its installation is active",
    ),
];

struct Source {
    /// `events::queue`, `lib`.
    module: String,
    /// `events/queue.rs`.
    file: String,
    /// The lines that are code: comments blanked, tests cut off.
    lines: Vec<String>,
}

fn src_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn sources() -> Vec<Source> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = src_dir();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let file = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let module = file
                .trim_end_matches(".rs")
                .trim_end_matches("/mod")
                .replace('/', "::");
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let lines = code
                .lines()
                .map(|l| {
                    let t = l.trim_start();
                    if t.starts_with("//") {
                        String::new()
                    } else {
                        l.to_owned()
                    }
                })
                .collect();
            Source { module, file, lines }
        })
        .collect()
}

/// The library's modules (the binary's `main` and `cli` are the tools on top of it).
fn library(sources: &[Source]) -> Vec<&Source> {
    sources
        .iter()
        .filter(|s| !matches!(s.module.as_str(), "lib" | "main") && !s.module.starts_with("cli"))
        .collect()
}

/// The modules a file names with `crate::` or `super::`, resolved to the longest module path.
fn imports(source: &Source, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let is_dir_module = source.file.ends_with("/mod.rs");
    let parent = if is_dir_module {
        source.module.clone()
    } else {
        source
            .module
            .rsplit_once("::")
            .map(|(p, _)| p.to_owned())
            .unwrap_or_default()
    };
    let mut found = BTreeSet::new();
    for line in &source.lines {
        for (prefix, base) in [("crate::", String::new()), ("super::", parent.clone())] {
            let mut rest = line.as_str();
            while let Some(at) = rest.find(prefix) {
                let before = rest[..at].chars().last();
                rest = &rest[at + prefix.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let path: Vec<&str> = rest
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .next()
                    .unwrap_or_default()
                    .split("::")
                    .filter(|p| !p.is_empty())
                    .collect();
                for n in (1..=path.len()).rev() {
                    let mut candidate = path[..n].join("::");
                    if !base.is_empty() {
                        candidate = format!("{base}::{candidate}");
                    }
                    if modules.contains(&candidate) {
                        if candidate != source.module {
                            found.insert(candidate);
                        }
                        break;
                    }
                }
            }
        }
    }
    found
}

/// The strongly connected groups of more than one module: each is a loop of imports.
fn loops(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Two modules are in one loop when each reaches the other.
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_owned()];
        while let Some(m) = todo.pop() {
            for next in graph.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> = graph.keys().map(|m| (m, reach(m))).collect();
    let mut done = BTreeSet::new();
    let mut found = Vec::new();
    for m in graph.keys() {
        if done.contains(m) {
            continue;
        }
        let group: Vec<String> = graph
            .keys()
            .filter(|n| *n == m || (reached[m].contains(*n) && reached[*n].contains(m)))
            .cloned()
            .collect();
        done.extend(group.iter().cloned());
        if group.len() > 1 {
            found.push(group);
        }
    }
    found
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let sources = sources();
    let library = library(&sources);
    let modules: BTreeSet<String> = library.iter().map(|s| s.module.clone()).collect();
    let files: BTreeMap<String, BTreeSet<String>> = library
        .iter()
        .map(|s| (s.module.clone(), imports(s, &modules)))
        .collect();
    assert!(
        files.values().map(BTreeSet::len).sum::<usize>() > 100,
        "the import reader found too little"
    );
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, names) in &files {
        let from = module.split("::").next().unwrap().to_owned();
        let entry = top.entry(from.clone()).or_default();
        entry.extend(
            names
                .iter()
                .map(|n| n.split("::").next().unwrap().to_owned())
                .filter(|n| *n != from),
        );
    }
    assert_eq!(
        loops(&files),
        Vec::<Vec<String>>::new(),
        "files that import each other"
    );
    assert_eq!(
        loops(&top),
        Vec::<Vec<String>>::new(),
        "modules that import each other"
    );
}

#[test]
fn each_table_is_written_only_by_its_owner_and_read_by_others_only_where_listed() {
    let owners: BTreeMap<&str, &str> = OWNERS.iter().copied().collect();
    let mut problems = Vec::new();
    let mut seen_tables = BTreeSet::new();
    for source in sources() {
        let top = source.module.split("::").next().unwrap().to_owned();
        for (n, line) in source.lines.iter().enumerate() {
            let words: Vec<&str> = line
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
                .collect();
            for (i, pair) in words.windows(2).enumerate() {
                let (verb, table) = (pair[0], pair[1]);
                let delete = verb == "FROM" && i > 0 && words[i - 1] == "DELETE";
                let write = matches!(verb, "INTO" | "UPDATE") || delete;
                let read = matches!(verb, "FROM" | "JOIN");
                let Some(owner) = owners.get(table) else { continue };
                if !(write || read) {
                    continue;
                }
                seen_tables.insert(table.to_owned());
                if *owner == top {
                    continue;
                }
                let listed = READ_JOINS
                    .iter()
                    .any(|(f, t, _)| *f == source.file && *t == table);
                if write || !listed {
                    problems.push(format!(
                        "{}:{}: {verb} {table}, a table of `{owner}`",
                        source.file,
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        seen_tables.len() >= 20,
        "the SQL reader found only {seen_tables:?}"
    );
    assert!(
        problems.is_empty(),
        "SQL outside the table's owner:\n{}",
        problems.join("\n")
    );
}

/// Every table of the migrations has an owner above.
#[test]
fn every_table_has_an_owner() {
    let owners: BTreeSet<&str> = OWNERS.iter().map(|(t, _)| *t).collect();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../migrations/sqlite");
    let texts: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    let words: Vec<&str> = texts
        .iter()
        .flat_map(|text| text.split(|c: char| c.is_whitespace() || c == '(' || c == ';'))
        .filter(|w| !w.is_empty())
        .collect();
    // A table a later migration drops (the app log) has no owner any more.
    let dropped: BTreeSet<&str> = words
        .windows(3)
        .filter(|w| w[0] == "DROP" && w[1] == "TABLE")
        .map(|w| w[2])
        .collect();
    let mut tables = 0;
    for (i, w) in words.iter().enumerate() {
        if *w == "TABLE" && i > 0 && matches!(words[i - 1], "CREATE" | "VIRTUAL") {
            let table = words[i + 1];
            if dropped.contains(table) {
                continue;
            }
            assert!(
                owners.contains(table),
                "table {table} has no owner in tests/api/layout.rs"
            );
            tables += 1;
        }
    }
    assert!(tables >= 20, "found only {tables} tables");
}

#[test]
fn the_readme_layout_names_every_module() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let layout = readme
        .split("## Layout")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .expect("a Layout section with a code block");
    let mut named = BTreeSet::new();
    for entry in std::fs::read_dir(src_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name == "lib.rs" || name == "main.rs" {
            continue;
        }
        let shown = if path.is_dir() {
            format!("src/{name}/")
        } else {
            format!("src/{name}")
        };
        if !path.is_dir() && !name.ends_with(".rs") {
            continue;
        }
        named.insert(shown);
    }
    for module in &named {
        assert!(
            layout.contains(module.as_str()),
            "the README's layout does not name {module}"
        );
    }
    for line in layout.lines() {
        if let Some(at) = line.find("src/") {
            let shown = line[at..].split_whitespace().next().unwrap();
            if shown.starts_with("src/") && shown.len() > 4 {
                assert!(
                    src_dir()
                        .join(shown.trim_start_matches("src/").trim_end_matches('/'))
                        .exists(),
                    "the README's layout names {shown}, which is not there"
                );
            }
        }
    }
}
