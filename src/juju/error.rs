//! Errors from running hook tools, and the ONE place that maps a tool's stderr to a typed error.
//!
//! Juju's tools print `ERROR <message>` on stderr and exit non-zero; the message is the only thing
//! that tells "not found" from "not the leader" from "permission denied". Keeping that mapping in
//! [`classify`] means every caller matches on variants instead of on strings.

/// A hook tool could not be run or reported a failure.
#[derive(Debug, thiserror::Error)]
pub enum HookToolError {
    /// The tool could not be started at all (not on `PATH`, not executable).
    #[error("cannot run {tool}: {source}")]
    Spawn {
        /// Tool name (`relation-get`); never its arguments, which may hold secrets.
        tool: String,
        /// Why the OS refused.
        #[source]
        source: std::io::Error,
    },
    /// The tool ran and failed for a reason that has no more specific variant.
    #[error("{tool} failed with exit code {code}: {stderr}")]
    Failed {
        /// Tool name.
        tool: String,
        /// Exit code (-1 when killed by a signal).
        code: i32,
        /// Its stderr, trimmed, so logs say what Juju said.
        stderr: String,
    },
    /// The thing asked about does not exist (secret, resource, unit): callers usually turn this
    /// into `None`.
    #[error("not found: {what}")]
    NotFound {
        /// Juju's message naming what was missing.
        what: String,
    },
    /// Juju refused access (for instance a secret that was not granted to this unit).
    #[error("{tool}: permission denied: {stderr}")]
    PermissionDenied {
        /// Tool name.
        tool: String,
        /// Juju's message.
        stderr: String,
    },
    /// The operation needs leadership this unit does not hold (application data, app status).
    #[error("{tool}: this unit is not the leader")]
    NotLeader {
        /// Tool name.
        tool: String,
    },
    /// The tool succeeded but its output was not what the contract promises.
    #[error("cannot parse the output of {tool}: {source}")]
    Parse {
        /// Tool name.
        tool: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
}

/// Maps a failed tool run (exit `code`, `stderr`) to the most specific [`HookToolError`].
///
/// Recognised messages (case-insensitive): `... not found` (secrets, units, relations),
/// `could not download resource` (resource-get without an attached file), `permission denied`,
/// `cannot write relation settings` and `not the leader` / `not leader` (leader-only writes).
pub fn classify(tool: &str, code: i32, stderr: &str) -> HookToolError {
    let message = stderr.trim();
    let text = message.strip_prefix("ERROR ").unwrap_or(message);
    let lower = text.to_ascii_lowercase();
    if lower.contains("cannot write relation settings")
        || lower.contains("not the leader")
        || lower.contains("not leader")
    {
        HookToolError::NotLeader { tool: tool.to_string() }
    } else if lower.contains("permission denied") {
        HookToolError::PermissionDenied { tool: tool.to_string(), stderr: text.to_string() }
    } else if lower.contains("could not download resource") || lower.contains("not found") {
        HookToolError::NotFound { what: text.to_string() }
    } else {
        HookToolError::Failed { tool: tool.to_string(), code, stderr: text.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Short name of the variant, for table comparison.
    fn kind(e: &HookToolError) -> &'static str {
        match e {
            HookToolError::Spawn { .. } => "spawn",
            HookToolError::Failed { .. } => "failed",
            HookToolError::NotFound { .. } => "not-found",
            HookToolError::PermissionDenied { .. } => "permission",
            HookToolError::NotLeader { .. } => "not-leader",
            HookToolError::Parse { .. } => "parse",
        }
    }

    #[test]
    fn stderr_maps_to_variants() {
        let table = [
            ("secret-get", "ERROR secret \"cu5k9\" not found\n", "not-found"),
            ("relation-set", "ERROR cannot write relation settings\n", "not-leader"),
            ("status-set", "ERROR setting application status: this unit is not the leader", "not-leader"),
            ("secret-get", "ERROR permission denied\n", "permission"),
            (
                "resource-get",
                "ERROR could not download resource: HTTP request failed: resource#valkey/valkey-server not found",
                "not-found",
            ),
            ("relation-get", "ERROR unit \"valkey/7\" not found", "not-found"),
            ("config-get", "ERROR connection refused", "failed"),
            ("action-get", "", "failed"),
        ];
        for (tool, stderr, want) in table {
            let got = classify(tool, 1, stderr);
            assert_eq!(kind(&got), want, "{tool}: {stderr:?} -> {got}");
        }
    }

    #[test]
    fn failed_keeps_tool_code_and_trimmed_message() {
        let e = classify("config-get", 2, "ERROR flag provided but not defined: -x\n");
        match e {
            HookToolError::Failed { tool, code, stderr } => {
                assert_eq!(tool, "config-get");
                assert_eq!(code, 2);
                assert_eq!(stderr, "flag provided but not defined: -x");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn not_found_names_what() {
        let e = classify("secret-get", 1, "ERROR secret \"abc\" not found");
        assert_eq!(e.to_string(), "not found: secret \"abc\" not found");
    }
}
