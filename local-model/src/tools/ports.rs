//! `open-port`, `close-port`, `opened-ports`. Opening and closing is held back until the hook
//! succeeds; `opened-ports` shows the hook's own changes already.

use super::args::{self, Flag, OUTPUT_FLAGS};
use super::context::{unit_in, HookContext};
use super::format::emit;
use super::{Streams, ToolError};
use serde_json::json;

/// Normalises `6379`, `6379/tcp`, `8000-8010/udp` or `icmp` to Juju's `<port>[-<to>]/<protocol>`.
pub fn parse_port(text: &str) -> Result<String, ToolError> {
    let invalid = || ToolError::Usage(format!("invalid port or range {}", args::go_quote(text)));
    if text == "icmp" {
        return Ok("icmp".into());
    }
    let (range, protocol) = text.split_once('/').unwrap_or((text, "tcp"));
    let protocol = protocol.to_ascii_lowercase();
    if protocol != "tcp" && protocol != "udp" {
        return Err(ToolError::Usage(format!("invalid protocol {}", args::go_quote(&protocol))));
    }
    let (from, to) = range.split_once('-').unwrap_or((range, range));
    let from: u16 = from.parse().map_err(|_| invalid())?;
    let to: u16 = to.parse().map_err(|_| invalid())?;
    if from == 0 || to < from {
        return Err(invalid());
    }
    Ok(if from == to { format!("{from}/{protocol}") } else { format!("{from}-{to}/{protocol}") })
}

fn change_port(hook: &HookContext, args: &[String], open: bool) -> Result<(), ToolError> {
    let parsed = args::parse(&[Flag::value(&["endpoints"])], args)?;
    parsed.at_most(1)?;
    let text =
        parsed.positionals.first().ok_or_else(|| ToolError::Usage("no port or range specified".into()))?;
    let port = parse_port(text)?;
    hook.hold(|_, pending| {
        pending.ports.insert(port, open);
        Ok(())
    })
}

/// `open-port <port>[/<protocol>]`. Held back.
pub fn open_port(hook: &HookContext, args: &[String], _io: &mut Streams) -> Result<(), ToolError> {
    change_port(hook, args, true)
}

/// `close-port <port>[/<protocol>]`. Held back.
pub fn close_port(hook: &HookContext, args: &[String], _io: &mut Streams) -> Result<(), ToolError> {
    change_port(hook, args, false)
}

/// `opened-ports`: the unit's open ports, one per line (`6379/tcp`).
pub fn opened_ports(hook: &HookContext, args: &[String], io: &mut Streams) -> Result<(), ToolError> {
    let mut flags = OUTPUT_FLAGS.to_vec();
    flags.push(Flag::switch(&["endpoints"]));
    let parsed = args::parse(&flags, args)?;
    parsed.at_most(0)?;
    let state = hook.view()?;
    let unit = unit_in(&state, hook.unit()?)?;
    emit(io.stdout, &parsed, &json!(unit.opened_ports))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_normalise_and_reject_garbage() {
        assert_eq!(parse_port("6379").unwrap(), "6379/tcp");
        assert_eq!(parse_port("26379/TCP").unwrap(), "26379/tcp");
        assert_eq!(parse_port("8000-8010/udp").unwrap(), "8000-8010/udp");
        assert_eq!(parse_port("icmp").unwrap(), "icmp");
        for bad in ["0", "x/tcp", "70000", "10-5", "80/sctp"] {
            assert!(matches!(parse_port(bad), Err(ToolError::Usage(_))), "{bad}");
        }
    }
}
