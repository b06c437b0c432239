//! The address-block registry is one per user at a fixed place: two models created by callers
//! with different `TMPDIR`s still get different `127.0.K.0/24` blocks (they once both got the
//! same block, as each caller kept its own registry under its own `TMPDIR`).

mod common;

use common::JUJU_LOCAL;
use juju_local::store::Store;
use std::process::Command;

fn add_model(home: &std::path::Path, tmpdir: &std::path::Path, name: &str) -> [u8; 3] {
    let out = Command::new(JUJU_LOCAL)
        .args(["add-model", name])
        .env("JUJU_LOCAL_HOME", home)
        .env("TMPDIR", tmpdir)
        .env("JUJU_LOCAL_OWNER_PID", std::process::id().to_string())
        .output()
        .expect("run juju-local");
    assert!(out.status.success(), "add-model {name}: {}", String::from_utf8_lossy(&out.stderr));
    Store::open(home.join("models").join(name)).unwrap().read().unwrap().address_block
}

fn destroy(home: &std::path::Path, name: &str) {
    let out = Command::new(JUJU_LOCAL)
        .args(["destroy-model", name, "--no-prompt"])
        .env("JUJU_LOCAL_HOME", home)
        .output()
        .expect("run juju-local");
    assert!(out.status.success(), "destroy-model {name}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn models_of_callers_with_different_tmpdirs_get_different_blocks() {
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (tmp_a, tmp_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = add_model(home_a.path(), tmp_a.path(), "reg-a");
    let b = add_model(home_b.path(), tmp_b.path(), "reg-b");
    assert_ne!(a, b, "two live models share the block 127.0.{}.0/24", a[2]);
    for tmp in [&tmp_a, &tmp_b] {
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert!(left.is_empty(), "the registry must not live under TMPDIR: {left:?}");
    }
    destroy(home_a.path(), "reg-a");
    destroy(home_b.path(), "reg-b");
}
