//! Every end-to-end scenario file in `tests/` has a spread task, and every task a scenario file.

use std::collections::BTreeSet;
use std::fs;

use serde_yaml::Value;

use super::{repo, yaml};

/// Test files in `tests/` that are not end-to-end scenarios (so need no spread task): the packaging
/// checks, and benchmarks (`*_bench`, ignored tests run on demand, whose figures come from the
/// local model's machine).
const NOT_SCENARIOS: &[&str] = &["packaging"];
/// Suffix of benchmark files in `tests/`.
const BENCH_SUFFIX: &str = "_bench";
/// The spread suite holding one task per scenario file.
const SPREAD_SUITE: &str = "spread/e2e";

/// `tests/<name>.rs` files that are end-to-end scenarios.
fn scenario_files() -> BTreeSet<String> {
    fs::read_dir(repo().join("tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|name| !NOT_SCENARIOS.contains(&name.as_str()) && !name.ends_with(BENCH_SUFFIX))
        .collect()
}

#[test]
fn every_scenario_file_has_a_spread_task() {
    let spread = yaml("spread.yaml");
    assert!(
        spread["suites"].get(format!("{SPREAD_SUITE}/")).is_some(),
        "spread.yaml must declare the suite {SPREAD_SUITE}/"
    );
    let suite = repo().join(SPREAD_SUITE);
    let mut tasks = BTreeSet::new();
    for entry in fs::read_dir(&suite).unwrap_or_else(|e| panic!("{}: {e}", suite.display())) {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let task: Value = serde_yaml::from_str(
            &fs::read_to_string(dir.join("task.yaml")).unwrap_or_else(|e| panic!("{name}/task.yaml: {e}")),
        )
        .unwrap_or_else(|e| panic!("{name}/task.yaml: {e}"));
        assert!(task["summary"].as_str().is_some_and(|s| !s.trim().is_empty()), "{name}: summary");
        let execute = task["execute"].as_str().unwrap_or_default();
        assert!(
            execute.contains(&format!("--test {name}")) && execute.contains("JUJU=juju"),
            "{name}/task.yaml must run `JUJU=juju ... --test {name}`:\n{execute}"
        );
        tasks.insert(name);
    }
    let scenarios = scenario_files();
    let untasked: Vec<&String> = scenarios.difference(&tasks).collect();
    let stale: Vec<&String> = tasks.difference(&scenarios).collect();
    assert!(
        untasked.is_empty() && stale.is_empty(),
        "scenario files without a spread task: {untasked:?} (run `spread/lib/new-task <name>`); \
         tasks without a scenario file: {stale:?}"
    );
}
