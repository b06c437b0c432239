//! The consistency check: every acknowledged write must be readable, with its value, on every node
//! given. Replicas may lag, so the check is repeated until it passes or the deadline passes.

use std::time::{Duration, Instant};

use super::ProbeLog;
use crate::valkey::{self, Credentials, Endpoint, Timeouts};

/// Keys read per `MGET`, so a long run does not build one huge reply.
const CHUNK: usize = 500;

/// The result of checking one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCheck {
    /// The node checked.
    pub node: Endpoint,
    /// Sequence numbers of acknowledged writes that are absent.
    pub missing: Vec<u64>,
    /// Sequence numbers whose value is not the one written.
    pub wrong: Vec<u64>,
    /// Set when the node could not be read at all.
    pub unreachable: Option<String>,
}

impl NodeCheck {
    fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.wrong.is_empty() && self.unreachable.is_none()
    }

    fn summary(&self) -> String {
        if let Some(why) = &self.unreachable {
            return format!("{}: unreachable ({why})", self.node);
        }
        let first: Vec<String> = self.missing.iter().take(10).map(u64::to_string).collect();
        format!(
            "{}: {} missing (first: {}), {} with a wrong value",
            self.node,
            self.missing.len(),
            first.join(","),
            self.wrong.len()
        )
    }
}

/// Acknowledged writes were not all found.
#[derive(Debug, thiserror::Error)]
#[error("{acknowledged} acknowledged writes, not all present after {waited:?}: {}", summary(.checks))]
pub struct ConsistencyError {
    /// How many writes were checked.
    pub acknowledged: usize,
    /// How long we kept re-checking.
    pub waited: Duration,
    /// Every node that failed the last check.
    pub checks: Vec<NodeCheck>,
}

fn summary(checks: &[NodeCheck]) -> String {
    checks.iter().map(NodeCheck::summary).collect::<Vec<_>>().join("; ")
}

/// Checks that every acknowledged write of `log` is on every node in `nodes`, re-checking until
/// `timeout` passes (replicas catch up asynchronously).
pub fn verify(
    log: &ProbeLog,
    nodes: &[Endpoint],
    auth: &Credentials,
    timeout: Duration,
) -> Result<(), ConsistencyError> {
    let start = Instant::now();
    loop {
        let failed: Vec<NodeCheck> =
            nodes.iter().map(|node| check_node(log, node, auth)).filter(|c| !c.is_clean()).collect();
        if failed.is_empty() {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            return Err(ConsistencyError {
                acknowledged: log.acks.len(),
                waited: start.elapsed(),
                checks: failed,
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn check_node(log: &ProbeLog, node: &Endpoint, auth: &Credentials) -> NodeCheck {
    let mut check =
        NodeCheck { node: node.clone(), missing: Vec::new(), wrong: Vec::new(), unreachable: None };
    let timeouts = Timeouts { connect: Duration::from_millis(500), io: Duration::from_secs(5) };
    let mut connection = match valkey::connect(node, auth, timeouts) {
        Ok(connection) => connection,
        Err(error) => {
            check.unreachable = Some(error.to_string());
            return check;
        }
    };
    for chunk in log.acks.chunks(CHUNK) {
        let keys: Vec<String> = chunk.iter().map(|ack| log.key(ack.seq)).collect();
        let values: Vec<Option<String>> = match redis::cmd("MGET").arg(&keys).query(&mut connection) {
            Ok(values) => values,
            Err(error) => {
                check.unreachable = Some(error.to_string());
                return check;
            }
        };
        for (ack, value) in chunk.iter().zip(values) {
            match value {
                None => check.missing.push(ack.seq),
                Some(text) if text != ack.seq.to_string() => check.wrong.push(ack.seq),
                Some(_) => {}
            }
        }
    }
    check
}
