//! Contract test of the juju driver: a stub `juju` (a shell script written here) records every argv
//! and rejects anything outside the documented juju 3.6 subset — unknown subcommands, unknown
//! flags, wrong positional counts. Every driver method is called against it and the exact argv
//! checked. Because the stub accepts only what real juju accepts, `JUJU=juju` needs no code change.

use std::path::{Path, PathBuf};
use std::time::Duration;

use valkey_harness::juju::{Juju, JujuError};

/// The stub. Per subcommand: allowed value flags, allowed boolean flags, positional count range,
/// whether `--` may end the flags. Outputs come from files in the stub's directory.
const STUB: &str = r#"#!/bin/sh
dir=$(dirname "$0")
# Record argv (one call per line, words separated by a tab) and the local-model environment.
line=""
for word in "$@"; do line="$line$word	"; done
printf '%s\n' "$line" >> "$dir/argv.log"
printf '%s %s\n' "${JUJU_LOCAL_HOME:-none}" "${JUJU_LOCAL_OWNER_PID:-none}" >> "$dir/env.log"
fail() { echo "ERROR stub: $*" >&2; exit 2; }
sub=$1; [ $# -gt 0 ] && shift
case "$sub" in
  add-model)     values="--config";                  bools="";                            min=1; max=1; dashdash=no ;;
  destroy-model) values="";                          bools="--no-prompt --destroy-storage"; min=1; max=1; dashdash=no ;;
  deploy)        values="-m -n --config --resource"; bools="";                            min=1; max=2; dashdash=no ;;
  add-unit)      values="-m -n";                     bools="";                            min=1; max=1; dashdash=no ;;
  remove-unit)   values="-m";                        bools="--no-prompt --force";         min=1; max=99; dashdash=no ;;
  config)        values="-m --format";               bools="";                            min=1; max=99; dashdash=no ;;
  model-config)  values="-m";                        bools="";                            min=1; max=99; dashdash=no ;;
  run)           values="-m --format --wait";        bools="";                            min=2; max=99; dashdash=no ;;
  exec)          values="-m --unit --format";        bools="";                            min=1; max=1; dashdash=yes ;;
  status)        values="-m --format";               bools="";                            min=0; max=0; dashdash=no ;;
  debug-log)     values="-m";                        bools="--replay --no-tail";          min=0; max=0; dashdash=no ;;
  *) fail "subcommand '$sub' is outside the subset" ;;
esac
positional=0
format=plain
while [ $# -gt 0 ]; do
  arg=$1; shift
  case "$arg" in
    --)
      [ "$dashdash" = yes ] || fail "-- not allowed for $sub"
      positional=$((positional + $#)); break ;;
    -*)
      found=no
      for flag in $values; do
        if [ "$arg" = "$flag" ]; then
          [ $# -gt 0 ] || fail "$arg needs a value"
          case "$arg" in --format) [ "$1" = json ] || fail "--format $1"; format=json;; esac
          shift; found=yes; break
        fi
      done
      for flag in $bools; do [ "$arg" = "$flag" ] && found=yes; done
      [ $found = yes ] || fail "flag '$arg' not allowed for $sub" ;;
    *) positional=$((positional + 1)) ;;
  esac
done
[ $positional -ge $min ] && [ $positional -le $max ] || fail "$sub takes $min..$max arguments, got $positional"
case "$sub" in
  status) cat "$dir/status.json" ;;
  config) [ "$format" = json ] && cat "$dir/config.json" ;;
  run) cat "$dir/run.json"; [ -f "$dir/run.fails" ] && exit 1 ;;
  exec) cat "$dir/exec.json" ;;
  debug-log) echo "unit-valkey-0: hello" ;;
esac
exit 0
"#;

struct Stub {
    dir: tempfile::TempDir,
}

impl Stub {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("juju");
        std::fs::write(&path, STUB).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let stub = Self { dir };
        stub.put(
            "status.json",
            r#"{"model":{"name":"t"},"applications":{"valkey":{"units":{
                "valkey/0":{"workload-status":{"current":"active"},"juju-status":{"current":"idle"},"leader":true},
                "valkey/1":{"workload-status":{"current":"active"},"juju-status":{"current":"idle"}},
                "valkey/2":{"workload-status":{"current":"active"},"juju-status":{"current":"idle"}}}}}}"#,
        );
        stub.put(
            "config.json",
            r#"{"application":"valkey","charm":"valkey","settings":{
                "down-after-ms":{"default":2000,"source":"user","type":"int","value":3000},
                "unset":{"source":"unset","type":"string"}}}"#,
        );
        stub.put(
            "run.json",
            r#"{"valkey/0":{"id":"2","status":"completed","unit":"valkey/0",
                "results":{"return-code":0,"primary":"valkey/0"}}}"#,
        );
        stub.put(
            "exec.json",
            r#"{"valkey/1":{"id":"3","status":"completed","unit":"valkey/1",
                "results":{"return-code":0,"stdout":"PONG\n"}}}"#,
        );
        stub
    }

    fn put(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).unwrap();
    }

    fn program(&self) -> PathBuf {
        self.dir.path().join("juju")
    }

    /// Every recorded call, as argv vectors.
    fn calls(&self) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(self.dir.path().join("argv.log")).unwrap_or_default();
        text.lines()
            .map(|line| line.split('\t').filter(|w| !w.is_empty()).map(String::from).collect())
            .collect()
    }

    fn env_lines(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.path().join("env.log")).unwrap_or_default();
        text.lines().map(String::from).collect()
    }
}

fn argv(words: &str) -> Vec<String> {
    words.split(' ').map(String::from).collect()
}

#[test]
fn every_driver_call_stays_inside_the_juju_subset() {
    let stub = Stub::new();
    let mut juju = Juju::with_program(stub.program(), false).unwrap();
    juju.action_wait = Duration::from_secs(120);
    juju.add_model("t").unwrap();
    let charm = Path::new("/charms/valkey");
    juju.deploy(
        charm,
        "valkey",
        3,
        &[("down-after-ms", "3000")],
        &[("valkey-binary", Path::new("/b/valkey"))],
    )
    .unwrap();
    juju.add_unit("valkey", 2).unwrap();
    juju.remove_unit(&["valkey/3", "valkey/4"], false).unwrap();
    juju.remove_unit(&["valkey/1"], true).unwrap();
    juju.config_set("valkey", &[("down-after-ms", "3000"), ("min-replicas", "1")]).unwrap();
    let config = juju.config_get("valkey").unwrap();
    juju.model_config(&[("update-status-hook-interval", "10s")]).unwrap();
    let outcome = juju.run_action("valkey/leader", "get-primary", &[("verbose", "true")]).unwrap();
    let exec = juju.exec("valkey/1", "valkey-cli ping").unwrap();
    let status = juju.wait_idle_active("valkey", 3, Duration::from_secs(5)).unwrap();
    juju.scale_application("valkey", 1).unwrap();
    juju.scale_application("valkey", 5).unwrap();
    juju.scale_application("valkey", 3).unwrap();
    let log = juju.debug_log().unwrap();
    juju.destroy_model().unwrap();
    juju.add_model_with("h", &[("network-mode", "hosts"), ("update-status-hook-interval", "10s")]).unwrap();

    assert_eq!(config.get("down-after-ms"), Some(&serde_json::json!(3000)));
    assert!(!config.contains_key("unset"));
    assert!(outcome.completed());
    assert_eq!(outcome.result("primary").as_deref(), Some("valkey/0"));
    assert_eq!((exec.code, exec.stdout.as_str()), (0, "PONG\n"));
    assert_eq!(status.leader("valkey"), Some("valkey/0"));
    assert!(log.contains("hello"));

    let expected = [
        "add-model t",
        "deploy -m t /charms/valkey valkey -n 3 --config down-after-ms=3000 --resource valkey-binary=/b/valkey",
        "add-unit -m t valkey -n 2",
        "remove-unit -m t valkey/3 valkey/4 --no-prompt",
        "remove-unit -m t valkey/1 --no-prompt --force",
        "config -m t valkey down-after-ms=3000 min-replicas=1",
        "config -m t valkey --format json",
        "model-config -m t update-status-hook-interval=10s",
        "run -m t valkey/leader get-primary verbose=true --format json --wait 120s",
        "exec -m t --unit valkey/1 --format json -- valkey-cli ping",
        "status -m t --format json",
        // scale to 1: status, then remove the highest numbers first.
        "status -m t --format json",
        "remove-unit -m t valkey/2 valkey/1 --no-prompt",
        // scale to 5 from the stub's 3 units.
        "status -m t --format json",
        "add-unit -m t valkey -n 2",
        // scale to 3: nothing to do.
        "status -m t --format json",
        "debug-log -m t --replay --no-tail",
        "destroy-model t --no-prompt --destroy-storage",
        "add-model h --config network-mode=hosts --config update-status-hook-interval=10s",
    ];
    let calls = stub.calls();
    let mut expected: Vec<Vec<String>> = expected.iter().map(|line| argv(line)).collect();
    // `valkey-cli ping` is one argv word (a shell command line), not two.
    expected[9] = vec!["exec", "-m", "t", "--unit", "valkey/1", "--format", "json", "--", "valkey-cli ping"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(calls.len(), expected.len(), "{calls:#?}");
    for (call, want) in calls.iter().zip(&expected) {
        assert_eq!(call, want);
    }
    assert!(stub.env_lines().iter().all(|line| line == "none none"), "real juju gets no local-model env");
}

#[test]
fn the_stub_rejects_what_real_juju_would_reject() {
    let stub = Stub::new();
    let juju = Juju::with_program(stub.program(), false).unwrap();
    for args in ["scale-application valkey 3", "status --format yaml", "remove-unit", "deploy -m t"] {
        let finished = juju.raw(&argv(args)).unwrap();
        assert_eq!(finished.code, Some(2), "stub accepted `{args}`");
        assert!(finished.stderr.starts_with("ERROR stub"), "{}", finished.stderr);
    }
}

#[test]
fn errors_name_the_argv_and_stderr() {
    let stub = Stub::new();
    let juju = Juju::with_program(stub.program(), false).unwrap();
    let error = juju.remove_unit(&[], false).unwrap_err();
    assert!(matches!(error, JujuError::Invalid(_)), "{error}");
    stub.put("status.json", "not json");
    let error = juju.status().unwrap_err().to_string();
    assert!(error.contains("status --format json"), "{error}");
    assert!(error.contains("not json"), "{error}");
    let error = juju.config_set("valkey", &[("-m", "x")]).unwrap_err();
    assert!(matches!(error, JujuError::Invalid(_)), "{error}");
}

#[test]
fn wait_for_times_out_with_the_last_status() {
    let stub = Stub::new();
    let mut juju = Juju::with_program(stub.program(), false).unwrap();
    juju.poll_interval = Duration::from_millis(20);
    let error = juju.wait_idle_active("valkey", 4, Duration::from_millis(300)).unwrap_err().to_string();
    assert!(error.contains("valkey to have 4 active idle units"), "{error}");
    assert!(error.contains("valkey/2 active/idle"), "{error}");
}

#[test]
fn failed_action_is_an_outcome_not_an_error() {
    let stub = Stub::new();
    stub.put(
        "run.json",
        r#"{"valkey/0":{"id":"4","status":"failed","message":"no replica in sync","results":{"return-code":0}}}"#,
    );
    stub.put("run.fails", "");
    let juju = Juju::with_program(stub.program(), false).unwrap();
    let outcome = juju.run_action("valkey/0", "failover", &[]).unwrap();
    assert!(!outcome.completed());
    assert_eq!(outcome.message.as_deref(), Some("no replica in sync"));
}

#[test]
fn local_mode_gets_a_private_home_and_an_owner_pid() {
    let stub = Stub::new();
    let juju = Juju::with_program(stub.program(), true).unwrap();
    let home = juju.local_home().unwrap().to_path_buf();
    juju.status().unwrap();
    assert_eq!(stub.env_lines(), [format!("{} {}", home.display(), std::process::id())]);
    drop(juju);
    assert!(!home.exists(), "the private home is removed with the driver");
}
