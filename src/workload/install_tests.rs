use super::*;
use crate::juju::FakeHookTools;
use crate::workload::test_support::valkey_server;

#[test]
fn versions_parse_from_both_engines() {
    let table = [
        ("Valkey server v=9.1.2 sha=00000000:0 malloc=libc bits=64 build=5f1b2e8b0cd6c0a1\n", Some("9.1.2")),
        (
            "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=c4c5a4bdf2e33ce4\n",
            Some("7.0.15"),
        ),
        ("valkey-server: command not found\n", None),
        ("Valkey server v= sha=0\n", None),
    ];
    for (out, want) in table {
        assert_eq!(parse_version(out).as_deref(), want, "{out}");
    }
}

#[test]
fn detects_the_pinned_binary_version() {
    assert_eq!(detect_version(&valkey_server()).unwrap(), "9.1.2");
    let err = detect_version(Path::new("/nonexistent/valkey-server")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/valkey-server"), "{err}");
}

#[test]
fn an_attached_resource_is_copied_and_linked() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = Paths::new(tmp.path().join("data"));
    let tools = FakeHookTools::new("valkey/0").resource(RESOURCE_NAME, valkey_server());
    assert_eq!(installed(&paths), None, "nothing before install");
    let got = install_from(&tools, &paths, &[], false).unwrap();
    assert_eq!(got.server, paths.bin_dir().join("valkey-server"));
    assert_eq!(got.version, "9.1.2");
    let meta = fs::symlink_metadata(&got.server).unwrap();
    assert!(meta.file_type().is_file(), "a copy, not a link to the agent's resource dir");
    assert_eq!(meta.permissions().mode() & 0o777, 0o755);
    assert_eq!(
        fs::read_link(paths.bin_dir().join("valkey-sentinel")).unwrap(),
        PathBuf::from("valkey-server")
    );
    assert_eq!(installed(&paths), Some(got.clone()));
    assert_eq!(install_from(&tools, &paths, &[], false).unwrap(), got, "idempotent");
}

#[test]
fn without_a_resource_a_packaged_binary_is_linked() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = Paths::new(tmp.path().join("data"));
    let pkg_dir = tmp.path().join("usr-bin");
    fs::create_dir_all(&pkg_dir).unwrap();
    let redis = pkg_dir.join("redis-server");
    fs::write(
        &redis,
        "#!/bin/sh\necho 'Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64'\n",
    )
    .unwrap();
    fs::set_permissions(&redis, fs::Permissions::from_mode(0o755)).unwrap();
    // An empty resource file (what `juju attach-resource` of nothing gives) counts as none.
    let empty = tmp.path().join("empty");
    fs::write(&empty, "").unwrap();
    let tools = FakeHookTools::new("valkey/0").resource(RESOURCE_NAME, &empty);
    let got = install_from(&tools, &paths, std::slice::from_ref(&pkg_dir), false).unwrap();
    assert_eq!(got.version, "7.0.15");
    assert_eq!(fs::read_link(&got.server).unwrap(), redis);
    assert_eq!(installed(&paths).map(|i| i.version).as_deref(), Some("7.0.15"));
}

#[test]
fn no_source_at_all_gives_the_attach_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = Paths::new(tmp.path().join("data"));
    let tools = FakeHookTools::new("valkey/0");
    let err = install_from(&tools, &paths, &[tmp.path().to_path_buf()], false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no valkey-server found: attach a binary: juju attach-resource valkey valkey-server=/path/to/valkey-server"
    );
    let failing = FakeHookTools::new("valkey/0").failing("resource-get", "ERROR connection refused");
    assert!(matches!(install_from(&failing, &paths, &[], false), Err(WorkloadError::HookTool(_))));
}
