//! Contract tests for the secret tools: ownership, grants, held-back changes, revisions and
//! the `secret-changed` fan-out.

#[allow(dead_code)] // Shared by several test crates; each uses a subset.
#[path = "fixtures/tools/model.rs"]
mod model;

use model::Model;

/// Adds an application-owned secret as the leader, commits it and returns its URI.
fn committed_secret(m: &Model) -> String {
    let out = m
        .tool("valkey/0", "secret-add")
        .args(&["--label", "passwords", "admin=one", "replication=two"])
        .run();
    let uri = out.ok().trim_end().to_string();
    m.commit("valkey/0", "valkey-0-ctx");
    uri
}

#[test]
fn secret_add_is_held_back_but_readable_in_its_own_hook() {
    let m = Model::new();
    let out = m
        .tool("valkey/0", "secret-add")
        .args(&["--label", "passwords", "--description", "d", "admin=one"])
        .run();
    let uri = out.ok().trim_end().to_string();
    let id = uri.strip_prefix("secret:").expect("prints secret:<id>");
    assert_eq!(id.len(), 20);
    assert!(m.state().secrets.is_empty(), "held back");
    let own = m.tool("valkey/0", "secret-get").args(&[&uri, "--format=json"]).run();
    assert_eq!(own.ok(), "{\"admin\":\"one\"}\n");
    let by_label = m.tool("valkey/0", "secret-get").args(&["--label", "passwords", "admin"]).run();
    assert_eq!(by_label.ok(), "one\n");
    // Another unit's hook cannot see it yet.
    m.tool("valkey/1", "secret-get").args(&[&uri]).run().fails(1, &format!("secret \"{uri}\" not found"));
    m.commit("valkey/0", "valkey-0-ctx");
    let secret = &m.state().secrets[id];
    assert_eq!((secret.owner.as_str(), secret.label.as_deref()), ("valkey", Some("passwords")));
    // Owned by the application: every unit of it reads.
    assert_eq!(m.tool("valkey/2", "secret-get").args(&[id, "admin"]).run().ok(), "one\n");
    let info = m.tool("valkey/0", "secret-info-get").args(&[&uri, "--format=json"]).run();
    assert_eq!(
        info.ok(),
        format!("{{\"{id}\":{{\"description\":\"d\",\"label\":\"passwords\",\"owner\":\"application\",\"revision\":1}}}}\n")
    );
    assert_eq!(m.tool("valkey/1", "secret-ids").run().ok(), format!("{id}\n"));
    // Only owners see a secret's metadata; to anyone else it does not exist.
    m.tool("client/0", "secret-info-get").args(&[&uri]).run().fails(1, &format!("secret \"{id}\" not found"));
    m.tool("valkey/0", "secret-info-get")
        .args(&[&uri, "--label", "x"])
        .run()
        .fails(2, "specify either a secret URI or label but not both");
    let by_label = m.tool("valkey/0", "secret-info-get").args(&["--label", "passwords"]).run();
    assert!(by_label.ok().starts_with(&format!("{id}:\n")), "YAML by default: {}", by_label.stdout);
}

#[test]
fn only_the_leader_manages_application_secrets_and_others_need_a_grant() {
    let m = Model::new();
    m.tool("valkey/1", "secret-add").args(&["admin=x"]).run().fails(1, "this unit is not the leader");
    let uri = committed_secret(&m);
    m.tool("valkey/1", "secret-set").args(&[&uri, "admin=three"]).run().fails(1, "permission denied");
    m.tool("client/0", "secret-get").args(&[&uri]).run().fails(1, "permission denied");
    m.tool("valkey/0", "secret-get")
        .args(&["secret:doesnotexist"])
        .run()
        .fails(1, "secret \"secret:doesnotexist\" not found");

    m.tool("valkey/0", "secret-grant").args(&[&uri, "-r", "valkey:1"]).run().ok();
    m.tool("client/0", "secret-get").args(&[&uri]).run().fails(1, "permission denied");
    m.commit("valkey/0", "valkey-0-ctx");
    let got = m.tool("client/0", "secret-get").args(&[&uri, "--format=json"]).run();
    assert_eq!(got.ok(), "{\"admin\":\"one\",\"replication\":\"two\"}\n");
    // The unit-owned flavour: another unit of the same application may not read it.
    let own = m.tool("valkey/1", "secret-add").args(&["--owner", "unit", "token=abc"]).run();
    let own = own.ok().trim_end().to_string();
    m.commit("valkey/1", "valkey-1-ctx");
    m.tool("valkey/2", "secret-get").args(&[&own]).run().fails(1, "permission denied");
    assert_eq!(m.tool("valkey/1", "secret-get").args(&[&own, "token"]).run().ok(), "abc\n");

    m.tool("valkey/0", "secret-revoke").args(&[&uri, "-r", "1"]).run().ok();
    m.commit("valkey/0", "valkey-0-ctx");
    m.tool("client/0", "secret-get").args(&[&uri]).run().fails(1, "permission denied");
}

#[test]
fn new_revisions_reach_consumers_through_secret_changed_and_refresh() {
    let m = Model::new();
    let uri = committed_secret(&m);
    m.tool("valkey/0", "secret-grant").args(&[&uri, "-r", "1", "--unit", "client/0"]).run().ok();
    m.commit("valkey/0", "valkey-0-ctx");
    // The consumer's first read starts tracking revision 1 (held back with its hook).
    assert_eq!(m.tool("client/0", "secret-get").args(&[&uri, "admin"]).run().ok(), "one\n");
    assert!(m.commit("client/0", "client-0-ctx").is_empty());

    m.tool("valkey/0", "secret-set").args(&[&uri, "admin=new", "replication=two"]).run().ok();
    let events = m.commit("valkey/0", "valkey-0-ctx");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "client/0");
    assert_eq!(events[0].1.name, "secret-changed");
    assert_eq!(events[0].1.secret_id.as_deref(), uri.strip_prefix("secret:"));
    // A consumer may name the secret with its own label and find it by that label later.
    m.tool("client/0", "secret-get").args(&[&uri, "--label", "valkey-passwords"]).run().ok();
    m.tool("client/0", "secret-get")
        .args(&["--label", "passwords"])
        .run()
        .fails(1, "secret \"passwords\" not found");
    m.commit("client/0", "client-0-ctx");
    let by_label = m.tool("client/0", "secret-get").args(&["--label", "valkey-passwords", "admin"]).run();
    assert_eq!(by_label.ok(), "one\n", "still the tracked revision");
    // The owner sees the latest at once; the consumer keeps its revision until --refresh.
    assert_eq!(m.tool("valkey/1", "secret-get").args(&[&uri, "admin"]).run().ok(), "new\n");
    assert_eq!(m.tool("client/0", "secret-get").args(&[&uri, "admin"]).run().ok(), "one\n");
    assert_eq!(m.tool("client/0", "secret-get").args(&[&uri, "admin", "--peek"]).run().ok(), "new\n");
    assert_eq!(m.tool("client/0", "secret-get").args(&[&uri, "admin"]).run().ok(), "one\n");
    assert_eq!(m.tool("client/0", "secret-get").args(&[&uri, "admin", "--refresh"]).run().ok(), "new\n");
    assert_eq!(m.state().secrets[uri.strip_prefix("secret:").unwrap()].tracking["client/0"], 1);
    m.commit("client/0", "client-0-ctx");
    assert_eq!(m.state().secrets[uri.strip_prefix("secret:").unwrap()].tracking["client/0"], 2);
    // Setting identical content makes no revision and no event.
    m.tool("valkey/0", "secret-set").args(&[&uri, "admin=new", "replication=two"]).run().ok();
    assert!(m.commit("valkey/0", "valkey-0-ctx").is_empty());
    m.tool("client/0", "secret-get")
        .args(&[&uri, "--peek", "--refresh"])
        .run()
        .fails(2, "specify one of --peek or --refresh but not both");
    m.tool("client/0", "secret-get").run().fails(2, "require either a secret URI or label");
    m.tool("client/0", "secret-get").args(&["nonsense"]).run().fails(2, "secret URI \"nonsense\" not valid");
    m.tool("client/0", "secret-get")
        .args(&[&uri, "--format=smart"])
        .run()
        .fails(2, "invalid value \"smart\" for option --format: unknown format \"smart\"");
    // The default format is YAML.
    assert_eq!(m.tool("valkey/0", "secret-get").args(&[&uri]).run().ok(), "admin: new\nreplication: two\n");
}

#[test]
fn secret_remove_and_bad_input() {
    let m = Model::new();
    let uri = committed_secret(&m);
    m.tool("valkey/0", "secret-add").run().fails(2, "missing secret value or filename");
    m.tool("valkey/0", "secret-add")
        .args(&["--rotate", "often", "pw1=1"])
        .run()
        .fails(2, "rotate policy \"often\" not valid");
    m.tool("valkey/0", "secret-add").args(&["PW=1"]).run().fails(2, "key \"PW\" not valid");
    m.tool("valkey/0", "secret-add")
        .args(&["--owner", "model", "pw1=1"])
        .run()
        .fails(2, "secret owner \"model\" not valid");
    m.tool("valkey/0", "secret-add")
        .args(&["--label", "passwords", "pw1=1"])
        .run()
        .fails(1, "secret with label \"passwords\" already exists");
    // Juju's text (`internal/worker/uniter/runner/jujuc/secret-grant.go`, `Init`).
    m.tool("valkey/0", "secret-grant").args(&[&uri]).run().fails(2, "no relation id specified");
    m.tool("valkey/0", "secret-remove")
        .args(&[&uri, "--revision", "5"])
        .run()
        .fails(1, "secret revision 5 not found");
    m.tool("valkey/0", "secret-remove").args(&[&uri]).run().ok();
    assert_eq!(m.tool("valkey/0", "secret-ids").args(&["--format=json"]).run().ok(), "null\n");
    assert_eq!(m.state().secrets.len(), 1, "held back until the hook succeeds");
    m.commit("valkey/0", "valkey-0-ctx");
    assert!(m.state().secrets.is_empty());
}

/// Secret values by file and base64, as Juju's `CreateSecretData` reads them
/// (`core/secrets/secret.go`): `key#file=PATH` takes the file's content (so the value is in no
/// argv), `key#base64=B64` a value already encoded; one value may hold 8 KiB, all 64 KiB.
/// The held-back changes and the committed state hold the values, so both files are 0600.
#[test]
fn secret_values_come_from_files_or_base64_within_juju_limits_and_stay_private() {
    use std::os::unix::fs::PermissionsExt;
    let m = Model::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pw");
    std::fs::write(&file, "from a file\nwith two lines").unwrap();
    let by_file = format!("admin#file={}", file.display());
    let uri = m
        .tool("valkey/0", "secret-add")
        .args(&["--label", "files", &by_file, "replication#base64=c2Vjb25kIHZhbHVl"])
        .run()
        .ok()
        .trim_end()
        .to_string();
    let pending = m.store.pending_path("valkey-0-ctx");
    assert_eq!(std::fs::metadata(&pending).unwrap().permissions().mode() & 0o777, 0o600, "contexts/*.json");
    m.commit("valkey/0", "valkey-0-ctx");
    let got = m.tool("valkey/0", "secret-get").args(&[&uri, "--format=json"]).run();
    assert_eq!(got.ok(), "{\"admin\":\"from a file\\nwith two lines\",\"replication\":\"second value\"}\n");
    let state_json = m.store.dir().join("state.json");
    assert_eq!(std::fs::metadata(state_json).unwrap().permissions().mode() & 0o777, 0o600, "state.json");

    // secret-set takes the same forms.
    std::fs::write(&file, "rotated").unwrap();
    m.tool("valkey/0", "secret-set").args(&[&uri, &by_file]).run().ok();
    m.commit("valkey/0", "valkey-0-ctx");
    let latest = m.tool("valkey/0", "secret-get").args(&[&uri, "admin", "--peek"]).run();
    assert_eq!(latest.ok(), "rotated\n");

    let missing = format!("admin#file={}", dir.path().join("nope").display());
    let out = m.tool("valkey/0", "secret-add").args(&[&missing]).run();
    assert_eq!(out.code, 1);
    assert!(out.stderr.starts_with("ERROR reading content for secret key \"admin\": "), "{}", out.stderr);
    std::fs::write(&file, "x".repeat(8 * 1024 + 1)).unwrap();
    let out = m.tool("valkey/0", "secret-add").args(&[&by_file]).run();
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("too large: 8193 bytes"), "{}", out.stderr);
    m.tool("valkey/0", "secret-add")
        .args(&["admin#base64=%%%"])
        .run()
        .fails(2, "value of key \"admin\" is not valid base64");
    assert_eq!(m.state().secrets.len(), 1, "refused adds leave nothing behind");
}
