//! Host mode as data: the names of a model's bridge, namespaces and veths, the hosts-file text,
//! and the `ip` command lines that build, fault and tear down the network. Nothing here runs a
//! command; [`super::net`] does.

use crate::model::lifecycle;
use crate::state::ModelState;
use std::net::Ipv4Addr;

/// The first two octets of host-mode blocks: 198.18.0.0/15 is reserved for benchmarking
/// (RFC 2544) and never routed, so a mistake cannot send test traffic anywhere real.
pub const PREFIX: [u8; 2] = [198, 18];

/// A MAC address no interface has: a permanent neighbour entry pointing at it makes the kernel
/// send a peer's packets into the void (locally administered, unicast).
pub const VOID_MAC: &str = "02:00:00:00:00:00";

/// The interface name inside every unit namespace.
pub const UNIT_IFACE: &str = "eth0";

/// One `ip` invocation (arguments after `ip`).
pub type IpArgs = Vec<String>;

fn args(words: &[&str]) -> IpArgs {
    words.iter().map(|w| w.to_string()).collect()
}

/// The model's bridge.
pub fn bridge(k: u8) -> String {
    format!("jlbr{k}")
}

/// The namespace of machine `machine`.
pub fn netns(k: u8, machine: u32) -> String {
    format!("jl{k}m{machine}")
}

/// The bridge-side end of machine `machine`'s veth pair (at most 10 characters: `jl254m252h`,
/// well within the kernel's 15).
pub fn host_veth(k: u8, machine: u32) -> String {
    format!("jl{k}m{machine}h")
}

/// The machine number of `name` if it is one of block `k`'s namespaces (`jl5m3` → 3).
pub fn machine_of_netns(k: u8, name: &str) -> Option<u32> {
    let rest = name.strip_prefix(&format!("jl{k}m"))?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// The host side's address on the bridge.
pub fn gateway(k: u8) -> Ipv4Addr {
    Ipv4Addr::new(PREFIX[0], PREFIX[1], k, 1)
}

/// The subnet of block `k`, as `198.18.K.0/24`.
pub fn subnet(k: u8) -> String {
    format!("{}.{}.{k}.0/24", PREFIX[0], PREFIX[1])
}

/// A unit's hostname: `valkey/0` → `valkey-0`.
pub fn hostname(unit: &str) -> String {
    unit.replace('/', "-")
}

/// Commands creating the bridge with the host's address on it.
pub fn bridge_up(k: u8) -> Vec<IpArgs> {
    let br = bridge(k);
    vec![
        args(&["link", "add", &br, "type", "bridge"]),
        args(&["addr", "add", &format!("{}/24", gateway(k)), "dev", &br]),
        args(&["link", "set", &br, "up"]),
    ]
}

/// Commands creating machine `machine`'s namespace, veth pair and address. No default route:
/// the unit reaches its own subnet and nothing else.
pub fn machine_up(k: u8, machine: u32, address: Ipv4Addr) -> Vec<IpArgs> {
    let ns = netns(k, machine);
    let veth = host_veth(k, machine);
    vec![
        args(&["netns", "add", &ns]),
        args(&["link", "add", &veth, "type", "veth", "peer", "name", UNIT_IFACE, "netns", &ns]),
        args(&["link", "set", &veth, "master", &bridge(k)]),
        args(&["link", "set", &veth, "up"]),
        args(&["-n", &ns, "addr", "add", &format!("{address}/24"), "dev", UNIT_IFACE]),
        args(&["-n", &ns, "link", "set", UNIT_IFACE, "up"]),
        args(&["-n", &ns, "link", "set", "lo", "up"]),
    ]
}

/// Commands removing machine `machine` (deleting the namespace also deletes its veth pair, once
/// no process holds the namespace; the explicit link delete covers a lingering one).
pub fn machine_down(k: u8, machine: u32) -> Vec<IpArgs> {
    vec![args(&["link", "del", &host_veth(k, machine)]), args(&["netns", "del", &netns(k, machine)])]
}

/// Commands moving machine `machine` from `old` to `new`. The old address goes first: in the
/// same subnet the new one would be a secondary, and deleting the primary takes its secondaries
/// with it.
pub fn readdress(k: u8, machine: u32, old: Ipv4Addr, new: Ipv4Addr) -> Vec<IpArgs> {
    let ns = netns(k, machine);
    vec![
        args(&["-n", &ns, "addr", "del", &format!("{old}/24"), "dev", UNIT_IFACE]),
        args(&["-n", &ns, "addr", "add", &format!("{new}/24"), "dev", UNIT_IFACE]),
    ]
}

/// The command cutting (`up == false`) or reconnecting machine `machine` at the bridge.
pub fn link(k: u8, machine: u32, up: bool) -> IpArgs {
    args(&["link", "set", &host_veth(k, machine), if up { "up" } else { "down" }])
}

/// The command making machine `machine` drop its packets to `peer` (`on`), or undoing that.
pub fn drop_peer(k: u8, machine: u32, peer: Ipv4Addr, on: bool) -> IpArgs {
    let ns = netns(k, machine);
    let peer = peer.to_string();
    if on {
        args(&[
            "-n",
            &ns,
            "neigh",
            "replace",
            &peer,
            "lladdr",
            VOID_MAC,
            "nud",
            "permanent",
            "dev",
            UNIT_IFACE,
        ])
    } else {
        args(&["-n", &ns, "neigh", "del", &peer, "dev", UNIT_IFACE])
    }
}

/// The hosts file every namespace gets, and the model's `hosts`: localhost, then one line per
/// unit (`<ip> <hostname>`), in unit-name order. `leaving` is left out (a unit being torn down).
pub fn hosts_file(state: &ModelState, leaving: Option<&str>) -> String {
    let mut text = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    for app in state.applications.keys() {
        for u in state.units_of(app) {
            // A subordinate is on its principal's machine: that machine's line names it.
            if Some(u.name.as_str()) == leaving || u.hostname.is_empty() || u.principal.is_some() {
                continue;
            }
            // A dying unit keeps its name until its machine is gone, as DNS would.
            text.push_str(&format!("{}\t{}\n", u.address, u.hostname));
        }
    }
    text
}

/// Records `unit`'s new address: in the state, in its relation bags (Juju's uniter refreshes
/// `ingress-address` and friends on config-changed; peers that see the unit get relation-changed)
/// and queues `config-changed` on the unit, as Juju does when a machine's address changes.
pub fn readdress_unit(state: &mut ModelState, unit: &str, address: Ipv4Addr) {
    let Some(u) = state.units.get_mut(unit) else { return };
    u.address = address;
    let app = u.application.clone();
    let mut changed = Vec::new();
    for relation in state.relations.values_mut() {
        let Some(bag) = relation.unit_bags.get_mut(unit) else { continue };
        bag.insert("private-address".into(), address.to_string());
        bag.insert("ingress-address".into(), address.to_string());
        bag.insert("egress-subnets".into(), format!("{address}/32"));
        changed.push(relation.id);
    }
    for rel in changed {
        let watchers: Vec<String> = state
            .units
            .values()
            .filter(|o| o.relation_views.get(&rel).is_some_and(|v| v.contains(unit)))
            .map(|o| o.name.clone())
            .collect();
        for w in watchers {
            let endpoint = state.relations[&rel].endpoint_for(crate::state::application_of(&w)).to_string();
            lifecycle::enqueue_hook(
                state,
                &w,
                lifecycle::relation_hook(&endpoint, "changed", rel, Some(unit), &app),
            );
        }
    }
    lifecycle::enqueue_hook(state, unit, lifecycle::hook("config-changed"));
    // Its subordinates are on the same machine: they move with it.
    let subordinates: Vec<String> = state.subordinates_of(unit).iter().map(|s| s.name.clone()).collect();
    for sub in subordinates {
        readdress_unit(state, &sub, address);
    }
}

/// The block octet K of a host-mode model (its third address octet).
pub fn block_of(state: &ModelState) -> u8 {
    state.address_block[2]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Application, Unit};

    #[test]
    fn names_fit_the_kernel_and_parse_back() {
        assert_eq!(netns(254, 252), "jl254m252");
        assert!(host_veth(254, 252).len() <= 15);
        assert!(bridge(254).len() <= 15);
        assert_eq!(machine_of_netns(5, "jl5m12"), Some(12));
        assert_eq!(machine_of_netns(5, "jl51m2"), None);
        assert_eq!(machine_of_netns(5, "jl5m"), None);
        assert_eq!(machine_of_netns(5, "jl5m1x"), None);
        assert_eq!(subnet(7), "198.18.7.0/24");
    }

    #[test]
    fn machine_commands_give_no_route_out() {
        let cmds = machine_up(3, 0, Ipv4Addr::new(198, 18, 3, 2));
        assert!(cmds.iter().any(|c| c.join(" ") == "-n jl3m0 addr add 198.18.3.2/24 dev eth0"));
        assert!(cmds.iter().all(|c| !c.contains(&"route".to_string())));
        assert_eq!(
            drop_peer(3, 0, Ipv4Addr::new(198, 18, 3, 3), true).join(" "),
            "-n jl3m0 neigh replace 198.18.3.3 lladdr 02:00:00:00:00:00 nud permanent dev eth0"
        );
    }

    #[test]
    fn hosts_file_lists_every_unit_but_the_leaving_one() {
        let mut state = ModelState::default();
        state.applications.insert("v".into(), Application { name: "v".into(), ..Default::default() });
        for (n, ip) in [(0, 2), (1, 3)] {
            let name = format!("v/{n}");
            let unit = Unit {
                name: name.clone(),
                application: "v".into(),
                address: Ipv4Addr::new(198, 18, 1, ip),
                hostname: hostname(&name),
                ..Unit::default()
            };
            state.units.insert(name, unit);
        }
        let text = hosts_file(&state, None);
        assert!(text.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(text.contains("198.18.1.2\tv-0\n") && text.contains("198.18.1.3\tv-1\n"), "{text}");
        assert!(!hosts_file(&state, Some("v/1")).contains("v-1"));
    }

    #[test]
    fn readdressing_updates_bags_and_queues_hooks() {
        let mut state = ModelState::default();
        let mut rel = crate::state::Relation { id: 0, endpoint: "peers".into(), ..Default::default() };
        rel.unit_bags.insert("v/0".into(), [("ingress-address".to_string(), "old".to_string())].into());
        state.relations.insert(0, rel);
        state
            .units
            .insert("v/0".into(), Unit { name: "v/0".into(), application: "v".into(), ..Unit::default() });
        let mut watcher = Unit { name: "v/1".into(), application: "v".into(), ..Unit::default() };
        watcher.relation_views.insert(0, ["v/0".to_string()].into());
        state.units.insert("v/1".into(), watcher);
        let new = Ipv4Addr::new(198, 18, 1, 9);
        readdress_unit(&mut state, "v/0", new);
        assert_eq!(state.units["v/0"].address, new);
        assert_eq!(state.relations[&0].unit_bags["v/0"]["ingress-address"], "198.18.1.9");
        assert_eq!(state.relations[&0].unit_bags["v/0"]["egress-subnets"], "198.18.1.9/32");
        let queued = |u: &str| -> Vec<String> {
            state.units[u]
                .queue
                .iter()
                .map(|e| match e {
                    crate::state::QueuedEvent::Hook(h) => h.name.clone(),
                    _ => String::new(),
                })
                .collect()
        };
        assert_eq!(queued("v/0"), ["config-changed"]);
        assert_eq!(queued("v/1"), ["peers-relation-changed"]);
    }
}
