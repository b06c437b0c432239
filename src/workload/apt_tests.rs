//! apt's messages, as apt 2.7 (Ubuntu 24.04) prints them, read into outcomes.

use super::*;

fn run(success: bool, stderr: &str) -> AptRun {
    AptRun { success, stderr: stderr.to_string() }
}

#[test]
fn apt_messages_read_as_outcomes() {
    assert_eq!(classify(&run(true, "W: some warning\n")), AptOutcome::Done);
    for missing in [
        "E: Unable to locate package valkey-server\n",
        "E: Package 'valkey-server' has no installation candidate\n",
    ] {
        assert_eq!(classify(&run(false, missing)), AptOutcome::NoPackage, "{missing}");
    }
    for locked in [
        "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 812 (unattended-upgr)\n\
         E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n",
        "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 3021 (apt-get)\n\
         E: Unable to lock directory /var/lib/apt/lists/\n",
    ] {
        match classify(&run(false, locked)) {
            AptOutcome::Locked(detail) => assert!(detail.starts_with("E: Could not get lock"), "{detail}"),
            other => panic!("{locked}: {other:?}"),
        }
    }
    assert_eq!(
        classify(&run(false, "Reading package lists...\nE: Failed to fetch http://archive/x  503\n")),
        AptOutcome::Failed("E: Failed to fetch http://archive/x  503".into())
    );
    assert_eq!(classify(&run(false, "")), AptOutcome::Failed(String::new()));
}
