//! `CLIENT LIST` replies, parsed (pure). *Why the charm reads them:* after a unit's address
//! changed, connections that used its old address are dead without an error until a timeout
//! (`repl-timeout`, 60 s, for a replica's link), and meanwhile a primary lists the moved replica
//! twice. The charm closes them by id (docs/ha-protocol.md "Address changes").

/// Ids of the clients in a `CLIENT LIST` reply with either end at the IP `ip`: the peer's
/// address (`addr=ip:port`, a client that moved away from `ip`) or the local one (`laddr=`, a
/// client that reached this node at its own old address `ip`). IPv6 addresses appear bare, the
/// port after the last colon.
pub fn client_ids_at(list: &str, ip: &str) -> Vec<u64> {
    list.lines()
        .filter_map(|line| {
            let field = |name: &str| {
                line.split_whitespace().find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            };
            let at = |name: &str| field(name).and_then(|a| a.rsplit_once(':')).is_some_and(|(h, _)| h == ip);
            if at("addr") || at("laddr") {
                field("id")?.parse().ok()
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_clients_at_one_address() {
        let list = "id=7 addr=198.18.1.4:40122 laddr=198.18.1.2:6379 fd=9 name= flags=S\n\
                    id=9 addr=198.18.1.5:40999 laddr=198.18.1.2:6379 fd=10 name= flags=S\n\
                    id=12 addr=198.18.1.4:41000 laddr=198.18.1.2:6379 fd=11 name= flags=S\n\
                    id=x addr=198.18.1.4:1 fd=1\n\
                    id=13 addr=::1:6000 fd=12\n";
        assert_eq!(client_ids_at(list, "198.18.1.4"), vec![7, 12]);
        assert_eq!(client_ids_at(list, "::1"), vec![13]);
        assert_eq!(client_ids_at(list, "198.18.1.44"), Vec::<u64>::new());
        assert_eq!(client_ids_at("", "198.18.1.4"), Vec::<u64>::new());
        // This node's own old address: every client that reached it there.
        assert_eq!(client_ids_at(list, "198.18.1.2"), vec![7, 9, 12]);
    }
}
