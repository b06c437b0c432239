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
    let got = install_from(&tools, &paths, &[], None).unwrap();
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
    assert_eq!(install_from(&tools, &paths, &[], None).unwrap(), got, "idempotent");
}

/// A fake server binary in `dir` that prints `banner` for `--version`.
fn fake_server(dir: &Path, name: &str, banner: &str) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    fs::write(&path, format!("#!/bin/sh\necho '{banner}'\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A package manager that answers from a script and records what it was asked.
struct FakeApt {
    /// Answers to successive runs, in order; `binary` is where the package "installs".
    answers: std::cell::RefCell<std::collections::VecDeque<apt::AptRun>>,
    asked: std::cell::RefCell<Vec<String>>,
    binary: PathBuf,
}

impl FakeApt {
    fn new(binary: PathBuf, answers: &[(bool, &str)]) -> FakeApt {
        let answers = answers.iter().map(|(ok, err)| apt::AptRun { success: *ok, stderr: err.to_string() });
        FakeApt { answers: std::cell::RefCell::new(answers.collect()), asked: Default::default(), binary }
    }
    fn next(&self, what: String) -> apt::AptRun {
        self.asked.borrow_mut().push(what);
        self.answers.borrow_mut().pop_front().expect("an unexpected apt run")
    }
}

impl Packages for FakeApt {
    fn install(&self, package: &str) -> apt::AptRun {
        self.next(format!("install {package}"))
    }
    fn update(&self) -> apt::AptRun {
        self.next("update".into())
    }
    fn binary(&self) -> PathBuf {
        self.binary.clone()
    }
    fn disable_service(&self, package: &str) {
        self.asked.borrow_mut().push(format!("disable {package}"));
    }
}

const NOT_IN_ARCHIVE: &str = "E: Unable to locate package valkey-server\n";
const LOCKED: &str = "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1234 \
    (unattended-upgr)\nN: Be aware that removing the lock file is not a solution and may break your system.\n\
    E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n";

#[test]
fn without_a_resource_a_packaged_valkey_is_linked_but_never_redis() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = Paths::new(tmp.path().join("data"));
    let pkg_dir = tmp.path().join("usr-bin");
    let redis = fake_server(&pkg_dir, "redis-server", "Redis server v=7.0.15 sha=00000000:0 bits=64");
    // An empty resource file (what `juju attach-resource` of nothing gives) counts as none.
    let empty = tmp.path().join("empty");
    fs::write(&empty, "").unwrap();
    let tools = FakeHookTools::new("valkey/0").resource(RESOURCE_NAME, &empty);
    // Only Redis from the archive on PATH (Ubuntu 24.04): not used; the unit asks for the resource.
    let err = install_from(&tools, &paths, std::slice::from_ref(&pkg_dir), None).unwrap_err();
    assert!(matches!(err, WorkloadError::NoSource { .. }), "{err}");
    assert!(!paths.bin_dir().join("valkey-server").exists(), "{redis:?} must not be linked");
    // A packaged valkey-server (a base that ships it) is.
    let valkey = fake_server(&pkg_dir, "valkey-server", "Valkey server v=8.1.1 sha=00000000:0 bits=64");
    let got = install_from(&tools, &paths, std::slice::from_ref(&pkg_dir), None).unwrap();
    assert_eq!(got.version, "8.1.1");
    assert_eq!(fs::read_link(&got.server).unwrap(), valkey);
    assert_eq!(installed(&paths).map(|i| i.version).as_deref(), Some("8.1.1"));
}

#[test]
fn apt_installs_valkey_after_one_update_when_the_lists_are_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = Paths::new(tmp.path().join("data"));
    let binary = fake_server(&tmp.path().join("usr-bin"), "valkey-server", "Valkey server v=8.0.2 sha=0");
    let apt = FakeApt::new(binary.clone(), &[(false, NOT_IN_ARCHIVE), (true, ""), (true, "")]);
    let tools = FakeHookTools::new("valkey/0");
    let got = install_from(&tools, &paths, &[], Some(&apt)).unwrap();
    assert_eq!((fs::read_link(&got.server).unwrap(), got.version.as_str()), (binary, "8.0.2"));
    assert_eq!(
        *apt.asked.borrow(),
        ["install valkey-server", "update", "install valkey-server", "disable valkey-server"]
    );
}

#[test]
fn a_base_without_the_package_blocks_naming_the_resource() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = Paths::new(tmp.path().join("data"));
    let apt = FakeApt::new(
        tmp.path().join("none"),
        &[(false, NOT_IN_ARCHIVE), (true, ""), (false, NOT_IN_ARCHIVE)],
    );
    let err = install_from(&FakeHookTools::new("valkey/0"), &paths, &[], Some(&apt)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no valkey-server found: this base has no valkey-server package; attach a binary: \
         juju attach-resource valkey valkey-server=/path/to/valkey-server"
    );
    assert_eq!(*apt.asked.borrow(), ["install valkey-server", "update", "install valkey-server"]);
}

#[test]
fn an_apt_lock_held_elsewhere_is_a_retry_not_a_block() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = Paths::new(tmp.path().join("data"));
    let tools = FakeHookTools::new("valkey/0");
    // Locked at install, and locked at the update after a stale-list miss.
    for answers in [vec![(false, LOCKED)], vec![(false, NOT_IN_ARCHIVE), (false, LOCKED)]] {
        let apt = FakeApt::new(tmp.path().join("none"), &answers);
        let err = install_from(&tools, &paths, &[], Some(&apt)).unwrap_err();
        assert!(matches!(err, WorkloadError::PackagesBusy { .. }), "{err}");
        assert!(err.to_string().contains("unattended-upgr"), "{err}");
        // The charm's error policy makes it a hook error (Juju retries), not a blocked status.
        let err = crate::charm::CharmError::Execute(crate::execute::ExecuteError::Workload(err));
        assert!(matches!(crate::charm::error_policy(&err), crate::charm::Decision::Retry(_)));
    }
    // Any other apt failure (no network to the archive) is retried too.
    let apt = FakeApt::new(tmp.path().join("none"), &[(false, "E: Failed to fetch http://archive/x 503\n")]);
    let err = install_from(&tools, &paths, &[], Some(&apt)).unwrap_err();
    assert!(matches!(err, WorkloadError::Command { .. }), "{err}");
}

#[test]
fn no_source_at_all_gives_the_attach_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = Paths::new(tmp.path().join("data"));
    let tools = FakeHookTools::new("valkey/0");
    let err = install_from(&tools, &paths, &[tmp.path().to_path_buf()], None).unwrap_err();
    assert_eq!(err.to_string(), format!("no valkey-server found: {NO_SOURCE_HINT}"));
    let failing = FakeHookTools::new("valkey/0").failing("resource-get", "ERROR connection refused");
    assert!(matches!(install_from(&failing, &paths, &[], None), Err(WorkloadError::HookTool(_))));
}
