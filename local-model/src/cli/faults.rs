//! Host-mode network faults (local extras): `cut`, `heal` and `change-address`. They act on the
//! model's namespaces at once and need no agent; `change-address` also queues `config-changed`,
//! so it makes sure the agent runs.

use super::Result;
use crate::agent::spawn;
use crate::hosts::faults;
use crate::model::home::Home;
use clap::Args;

/// Arguments of `cut` and `heal`.
#[derive(Debug, Args)]
pub struct FaultArgs {
    /// The unit (`valkey/0`).
    pub unit: String,
    /// Only the link between UNIT and this other unit (both directions).
    #[arg(long)]
    pub from: Option<String>,
}

/// `cut UNIT [--from UNIT2]`.
pub fn cut(home: &Home, model: &str, args: FaultArgs) -> Result<()> {
    let store = home.open(model)?;
    faults::cut(&store, &args.unit, args.from.as_deref())?;
    match &args.from {
        Some(peer) => eprintln!("cut {} from {peer}", args.unit),
        None => eprintln!("cut {} off the network", args.unit),
    }
    Ok(())
}

/// `heal UNIT [--from UNIT2]`: without `--from`, every fault on the unit.
pub fn heal(home: &Home, model: &str, args: FaultArgs) -> Result<()> {
    let store = home.open(model)?;
    faults::heal(&store, &args.unit, args.from.as_deref())?;
    eprintln!("healed {}", args.unit);
    Ok(())
}

/// `change-address UNIT`: prints the new address.
pub fn change_address(home: &Home, model: &str, unit: &str) -> Result<()> {
    let store = home.open(model)?;
    let address = faults::change_address(&store, unit)?;
    spawn::ensure_running(&store)?;
    println!("{address}");
    Ok(())
}

/// `kill-machine UNIT`: the unit's machine vanishes (machine mode, local).
pub fn kill_machine(home: &Home, model: &str, unit: &str) -> Result<()> {
    let store = home.open(model)?;
    crate::machines::kill(&store, unit)?;
    eprintln!("killed the machine of {unit}");
    Ok(())
}

/// `start-machine UNIT`: boots the unit's machine again and runs `start` on it (machine mode, local).
pub fn start_machine(home: &Home, model: &str, unit: &str) -> Result<()> {
    let store = home.open(model)?;
    crate::machines::boot_again(&store, unit)?;
    spawn::ensure_running(&store)?;
    eprintln!("started the machine of {unit}");
    Ok(())
}

/// `reboot-machine UNIT`: shuts the unit's machine down cleanly and boots it again (machine mode, local).
pub fn reboot_machine(home: &Home, model: &str, unit: &str) -> Result<()> {
    let store = home.open(model)?;
    crate::machines::reboot(&store, unit)?;
    spawn::ensure_running(&store)?;
    eprintln!("rebooted the machine of {unit}");
    Ok(())
}
