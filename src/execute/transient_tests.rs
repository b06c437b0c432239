//! A step that meets a transient answer (`LOADING`, …) waits for the node and runs again
//! (issue 15, item 5): the classification seam and the retry, against a fake node that is loading
//! for its first few commands.

use super::*;
use crate::juju::fake::FakeHookTools;
use crate::valkey::{DataNode, ReplicationInfo, SentinelNode};
use std::cell::Cell;
use std::rc::Rc;

/// A server reply parsed the way the client parses it, as the error the client returns.
fn server_error(reply: &str) -> ValkeyError {
    let value = redis::parse_redis_value(reply.as_bytes()).expect("a RESP error reply");
    let source = match value {
        redis::Value::ServerError(e) => redis::RedisError::from(e),
        other => panic!("not an error reply: {other:?}"),
    };
    ValkeyError::Command {
        endpoint: Endpoint::new("valkey-0.test", 6379),
        command: "CONFIG SET".into(),
        source,
    }
}

#[test]
fn transient_answers_are_told_apart_from_refusals() {
    let table = [
        ("-LOADING Valkey is loading the dataset in memory\r\n", true),
        ("-BUSY Valkey is busy running a script.\r\n", true),
        ("-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n", true),
        ("-TRYAGAIN Multiple keys request during rehashing of slot\r\n", true),
        ("-ERR unknown command 'FOO'\r\n", false),
        ("-NOPERM this user has no permissions to run the 'config|set' command\r\n", false),
        ("-READONLY You can't write against a read only replica.\r\n", false),
    ];
    for (reply, transient) in table {
        let err = ExecuteError::Valkey(server_error(reply));
        assert_eq!(transient_at(&err).is_some(), transient, "{reply:?}");
    }
    let refused = ValkeyError::Connect {
        endpoint: Endpoint::new("h", 1),
        source: redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
    };
    assert_eq!(transient_at(&ExecuteError::Valkey(refused)), None, "unreachable is another case");
}

/// A replica that answers `LOADING` to its first `loading` commands (PING and CONFIG SET alike).
#[derive(Clone, Default)]
struct LoadingNode {
    loading: Rc<Cell<u32>>,
    config_sets: Rc<Cell<u32>>,
}

impl LoadingNode {
    fn busy(&self) -> Result<(), ValkeyError> {
        match self.loading.get() {
            0 => Ok(()),
            n => {
                self.loading.set(n - 1);
                Err(server_error("-LOADING Valkey is loading the dataset in memory\r\n"))
            }
        }
    }
}

impl DataNode for LoadingNode {
    fn ping(&mut self) -> Result<(), ValkeyError> {
        self.busy()
    }
    fn replication(&mut self) -> Result<ReplicationInfo, ValkeyError> {
        Ok(crate::observe::fixture::replica_info(1, 10, true))
    }
    fn version(&mut self) -> Result<String, ValkeyError> {
        Ok("9.1.2".into())
    }
    fn config_set(&mut self, _: &str, _: &str) -> Result<(), ValkeyError> {
        self.busy()?;
        self.config_sets.set(self.config_sets.get() + 1);
        Ok(())
    }
    fn config_get(&mut self, _: &str) -> Result<Option<String>, ValkeyError> {
        Ok(None)
    }
    fn config_rewrite(&mut self) -> Result<(), ValkeyError> {
        Ok(())
    }
    fn replicaof(&mut self, _: Option<&Endpoint>) -> Result<(), ValkeyError> {
        self.busy()
    }
    fn pause_writes(&mut self, _: Duration) -> Result<(), ValkeyError> {
        Ok(())
    }
    fn unpause(&mut self) -> Result<(), ValkeyError> {
        Ok(())
    }
    fn wait_replicas(&mut self, _: u32, _: Duration) -> Result<u32, ValkeyError> {
        Ok(0)
    }
}

impl crate::valkey::Connector for LoadingNode {
    fn data(&self, _: &Endpoint) -> Result<Box<dyn DataNode>, ValkeyError> {
        Ok(Box::new(self.clone()))
    }
    fn sentinel(&self, endpoint: &Endpoint) -> Result<Box<dyn SentinelNode>, ValkeyError> {
        Err(ValkeyError::Reply {
            endpoint: endpoint.clone(),
            command: "-".into(),
            detail: "no Sentinel".into(),
        })
    }
}

#[test]
fn a_step_that_meets_loading_waits_and_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = super::tests::ctx(dir.path());
    let tools = FakeHookTools::new("valkey/0");
    let paths = Paths::new(dir.path().join("data"));
    paths.create_dirs().unwrap();
    let sup = super::tests::RecordingSupervisor::default();
    // CONFIG SET meets LOADING, then two PINGs do, then the node is ready.
    let node = LoadingNode::default();
    node.loading.set(3);
    let budget = Deadline::for_hook();
    let e = Effects {
        ctx: &ctx,
        tools: &tools,
        connector: &node,
        supervisor: Some(&sup),
        paths: Some(&paths),
        deadline: &budget,
    };
    let o = Observed::test(0);
    let out = execute(&e, &o, &[Step::AllowPromotion(100)]).unwrap();
    assert_eq!(out, Outcome::default(), "the fence is lifted, nothing left waiting");
    assert_eq!(node.config_sets.get(), 1, "replica-priority set once the node was ready");
    // Still loading after the wait: the hook fails (and is retried), it does not pass silently.
    // The wait is bounded by the hook's deadline (here 300 ms of it).
    let stuck = LoadingNode::default();
    stuck.loading.set(u32::MAX);
    let (wait, started) = (Duration::from_millis(300), std::time::Instant::now());
    let budget = Deadline::after(wait);
    let e = Effects {
        ctx: &ctx,
        tools: &tools,
        connector: &stuck,
        supervisor: Some(&sup),
        paths: Some(&paths),
        deadline: &budget,
    };
    let step = Step::FollowPrimary(Endpoint::new("valkey-1.test", 6379));
    let local = Local::of(&e, &o);
    let err = run_patiently(&e, local.as_ref(), &o, &step, &mut Outcome::default()).unwrap_err();
    assert!(transient_at(&err).is_some(), "{err}");
    assert!(started.elapsed() >= wait, "gave up before the bound: {:?}", started.elapsed());
    assert!(started.elapsed() < TRANSIENT_WAIT / 10, "the deadline bounds it: {:?}", started.elapsed());
}
