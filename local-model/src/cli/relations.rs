//! `integrate A[:ep] B[:ep]` (alias `relate`) and `remove-relation A[:ep] B[:ep] | ID`, with Juju's
//! messages (`cmd/juju/application/integrate.go`, `cmd/juju/application/removerelation.go`; the
//! rules themselves are in [`crate::model::relations`]). Both return at once, as Juju does: the
//! agent runs the hooks.

use super::Result;
use crate::agent::spawn;
use crate::model::home::Home;
use crate::model::relations;
use crate::state::ModelState;
use clap::Args;

/// Arguments of `integrate`.
#[derive(Debug, Args)]
pub struct IntegrateArgs {
    /// `application[:endpoint]`.
    pub a: String,
    /// `application[:endpoint]`.
    pub b: String,
}

/// Arguments of `remove-relation`.
#[derive(Debug, Args)]
pub struct RemoveRelationArgs {
    /// `application[:endpoint]`, or a relation id alone.
    pub a: String,
    /// `application[:endpoint]`.
    pub b: Option<String>,
    /// Accepted for compatibility (the hooks run either way).
    #[arg(long)]
    pub force: bool,
    /// Accepted for compatibility.
    #[arg(long)]
    pub no_prompt: bool,
}

/// Runs `integrate`: the relation exists when the command returns; its hooks follow.
pub fn integrate(home: &Home, model: &str, args: IntegrateArgs) -> Result<()> {
    let store = home.open(model)?;
    store.update(|s: &mut ModelState| relations::integrate(s, &args.a, &args.b))?;
    spawn::ensure_running(&store)?;
    Ok(())
}

/// Runs `remove-relation`: the relation is dying when the command returns; it is gone once every
/// unit has run its `-relation-broken`.
pub fn remove_relation(home: &Home, model: &str, args: RemoveRelationArgs) -> Result<()> {
    let store = home.open(model)?;
    store.update(|s: &mut ModelState| {
        let rel = relations::find(s, &args.a, args.b.as_deref())?;
        relations::remove_relation(s, rel, None)
    })?;
    spawn::ensure_running(&store)?;
    Ok(())
}
