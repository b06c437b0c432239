//! Secrets shared across applications over a relation, as Juju 3.6 does it: the owner grants
//! read access over a relation (`secret-grant ID -r REL [--unit U]`,
//! `internal/worker/uniter/runner/jujuc/secret-grant.go`), a consumer reads only when granted and
//! tracks a revision (`secret-get.go`: `--peek` reads the latest without moving, `--refresh`
//! moves to it), the owner's new revision queues `secret-changed` on tracking consumers
//! (`state/secrets.go`, consumers notified of a new revision), and a relation's grants go with it.

mod common;

use common::TestModel;
use std::path::Path;

/// Provider (test charm, 2 units) and `n` requirer units, related, settled; returns the model and
/// a secret the provider's leader added (`secret:...`), not granted yet.
fn related_with_secret(name: &str, n: u32) -> (TestModel, String) {
    let m = TestModel::deployed(name, 2);
    let requirer = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/requirer-charm");
    m.ok(&["deploy", requirer.to_str().unwrap(), "-n", &n.to_string()]);
    m.ok(&["integrate", "test-charm", "requirer-charm"]);
    m.wait();
    let uri = m.exec("test-charm/0", "secret-add --label creds password=one");
    assert!(uri.starts_with("secret:"), "{uri}");
    (m, uri)
}

/// Runs a command that must fail in a hook context on `unit`; returns what it printed.
fn exec_fails(m: &TestModel, unit: &str, cmd: &str) -> String {
    let out = m.juju(&["exec", "--unit", unit, "--", cmd]);
    assert!(!out.status.success(), "{cmd} on {unit} unexpectedly succeeded");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn a_consumer_reads_only_what_is_granted_and_tracks_its_revision() {
    let (m, uri) = related_with_secret("sec-track", 1);
    assert!(exec_fails(&m, "requirer-charm/0", &format!("secret-get {uri}")).contains("permission denied"));
    // Only the owning application's leader may grant.
    assert!(exec_fails(&m, "test-charm/1", &format!("secret-grant {uri} -r source:1"))
        .contains("permission denied"));
    m.exec("test-charm/0", &format!("secret-grant {uri} -r source:1"));
    assert_eq!(m.exec("requirer-charm/0", &format!("secret-get {uri} password")), "one");
    m.clear_events();
    m.exec("test-charm/0", &format!("secret-set {uri} password=two"));
    m.wait();
    assert_eq!(m.events_of("requirer-charm/0"), ["secret-changed"], "the tracking consumer is told");
    assert!(m.events_of("test-charm/1").is_empty(), "owners are not consumers");
    assert_eq!(m.exec("requirer-charm/0", &format!("secret-get {uri} password")), "one", "still tracks 1");
    assert_eq!(m.exec("requirer-charm/0", &format!("secret-get {uri} password --peek")), "two");
    assert_eq!(
        m.exec("requirer-charm/0", &format!("secret-get {uri} password")),
        "one",
        "peek does not move"
    );
    assert_eq!(m.exec("requirer-charm/0", &format!("secret-get {uri} password --refresh")), "two");
    assert_eq!(m.exec("requirer-charm/0", &format!("secret-get {uri} password")), "two");
    m.exec("test-charm/0", &format!("secret-revoke {uri} -r source:1"));
    assert!(exec_fails(&m, "requirer-charm/0", &format!("secret-get {uri}")).contains("permission denied"));
}

#[test]
fn a_unit_grant_reaches_that_unit_only_and_removing_the_relation_revokes() {
    let (m, uri) = related_with_secret("sec-unit", 2);
    // `--unit` must name a unit of the relation's remote application (secret-grant.go, `Init`).
    let out = exec_fails(&m, "test-charm/0", &format!("secret-grant {uri} -r source:1 --unit test-charm/1"));
    assert!(
        out.contains(r#"cannot specify unit "test-charm/1" in relation to application "requirer-charm""#),
        "{out}"
    );
    let out = exec_fails(&m, "test-charm/0", &format!("secret-grant {uri} -r source:1 --unit nonsense"));
    assert!(out.contains(r#"unit "nonsense" not valid"#), "{out}");
    m.exec("test-charm/0", &format!("secret-grant {uri} -r source:1 --unit requirer-charm/1"));
    assert_eq!(m.exec("requirer-charm/1", &format!("secret-get {uri} password")), "one");
    assert!(exec_fails(&m, "requirer-charm/0", &format!("secret-get {uri}")).contains("permission denied"));
    m.exec("test-charm/0", &format!("secret-grant {uri} -r source:1"));
    assert_eq!(m.exec("requirer-charm/0", &format!("secret-get {uri} password")), "one");
    m.ok(&["remove-relation", "test-charm", "requirer-charm"]);
    m.wait();
    for unit in ["requirer-charm/0", "requirer-charm/1"] {
        let out = exec_fails(&m, unit, &format!("secret-get {uri}"));
        assert!(out.contains("permission denied"), "{unit}: {out}");
    }
    assert_eq!(m.exec("test-charm/1", &format!("secret-get {uri} password")), "one", "the owner keeps it");
}
