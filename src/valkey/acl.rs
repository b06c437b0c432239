//! ACL user management on a Valkey data node or a Sentinel: the client relation's users
//! (`crate::client`). Both servers answer `ACL SETUSER/DELUSER/LIST`; they persist differently
//! (`CONFIG REWRITE` on a data node, `SENTINEL FLUSHCONFIG` on a Sentinel), so [`AclNode::persist`]
//! knows which one it talks to.

use super::ValkeyError;

/// ACL commands on one server.
pub trait AclNode {
    /// `ACL SETUSER <args…>` (the first argument is the name; the rest may hold a password hash).
    fn setuser(&mut self, args: &[String]) -> Result<(), ValkeyError>;
    /// `ACL DELUSER <name>`: how many users were deleted (0 when it did not exist).
    fn deluser(&mut self, name: &str) -> Result<u32, ValkeyError>;
    /// `ACL LIST`: one `user <name> <rules…>` line per user.
    fn list(&mut self) -> Result<Vec<String>, ValkeyError>;
    /// Writes the users into the server's config file, so they survive a restart.
    fn persist(&mut self) -> Result<(), ValkeyError>;
}
