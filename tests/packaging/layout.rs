//! The README's "What is where" table names every top-level entry of the repository and every
//! module of the charm crate, so a newcomer's map matches the tree.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The backticked names in the README's "What is where" section.
fn layout_names(readme: &str) -> BTreeSet<String> {
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("What is where"))
        .expect("README has a \"What is where\" section");
    section.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// Tracked top-level entries (`git ls-files`), directories with a trailing `/`; `None` without git.
fn tracked_top_level(root: &Path) -> Option<BTreeSet<String>> {
    let out = Command::new("git").arg("-C").arg(root).arg("ls-files").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let entries = text.lines().filter_map(|l| {
        let (first, rest) = l.split_once('/').map_or((l, false), |(f, _)| (f, true));
        (!first.is_empty()).then(|| if rest { format!("{first}/") } else { first.to_string() })
    });
    Some(entries.collect())
}

/// The modules `src/lib.rs` declares.
fn crate_modules(root: &Path) -> Vec<String> {
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect()
}

pub fn check(root: &Path) {
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let names = layout_names(&readme);
    // An entry counts when the table names it or something inside it (`bench/ops-noop/`).
    let named =
        |entry: &str| names.iter().any(|n| n == entry || n.starts_with(entry) && entry.ends_with('/'));
    match tracked_top_level(root) {
        Some(entries) => {
            let unnamed: Vec<&String> = entries
                .iter()
                .filter(|e| !matches!(e.as_str(), "README.md" | ".gitignore"))
                .filter(|e| !named(e))
                .collect();
            assert!(unnamed.is_empty(), "README \"What is where\" does not name: {unnamed:?}");
        }
        None => println!("skipped the top-level check: no git checkout to list the tracked files"),
    }
    let src: Vec<String> = crate_modules(root)
        .into_iter()
        .filter(|m| {
            let (file, dir) = (format!("{m}.rs"), format!("{m}/"));
            !names.contains(&file) && !names.contains(&dir)
        })
        .collect();
    assert!(src.is_empty(), "README \"What is where\" does not name these src modules: {src:?}");
}
