//! `wait`: blocks until the model settles — every unit idle (nothing queued or running, no failed
//! hook), the application at the wanted scale, every workload status as wanted — or times out
//! printing the last status it saw.

use super::{CliError, Result};
use crate::agent::spawn;
use crate::model::duration;
use crate::model::home::Home;
use crate::state::{ModelState, QueuedEvent};
use clap::Args;
use regex::Regex;
use std::time::{Duration, Instant};

/// Arguments of `wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Give up after this long (Go duration).
    #[arg(long, default_value = "10m")]
    pub timeout: String,
    /// Only this application (default: all).
    #[arg(long)]
    pub app: Option<String>,
    /// Wanted number of units of the application.
    #[arg(long)]
    pub units: Option<usize>,
    /// Wanted workload status of every unit (`active`, `blocked`, ...).
    #[arg(long)]
    pub workload: Option<String>,
    /// Regex every unit's workload message must match.
    #[arg(long)]
    pub message_regex: Option<String>,
}

/// The conditions, compiled.
#[derive(Debug)]
pub struct Goal {
    /// Application, or all.
    pub app: Option<String>,
    /// Wanted unit count.
    pub units: Option<usize>,
    /// Wanted workload status.
    pub workload: Option<String>,
    /// Wanted workload message.
    pub message: Option<Regex>,
}

/// Why the model is not settled yet (`None` when it is). Pure.
pub fn unsettled(state: &ModelState, goal: &Goal) -> Option<String> {
    let apps: Vec<&String> = match &goal.app {
        Some(app) => match state.applications.get_key_value(app) {
            Some((k, _)) => vec![k],
            None => return Some(format!("application \"{app}\" not found")),
        },
        None => state.applications.keys().collect(),
    };
    for app in apps {
        let units = state.units_of(app);
        if let Some(n) = goal.units {
            if units.len() != n {
                return Some(format!("{app} has {} units, want {n}", units.len()));
            }
        }
        for u in units {
            // A queued update-status alone does not make a unit busy: with a short interval it
            // would otherwise keep `wait` from ever seeing every unit idle at once.
            let queued =
                u.queue.iter().any(|e| !matches!(e, QueuedEvent::Hook(h) if h.name == "update-status"));
            if u.running.is_some() || queued {
                return Some(format!("{} is busy", u.name));
            }
            if u.failed.is_some() {
                return Some(format!("{} is in error", u.name));
            }
            if let Some(w) = &goal.workload {
                if &u.workload_status.status != w {
                    return Some(format!("{} is {}, want {w}", u.name, u.workload_status.status));
                }
            }
            if let Some(re) = &goal.message {
                if !re.is_match(&u.workload_status.message) {
                    return Some(format!(
                        "{} message {:?} does not match",
                        u.name, u.workload_status.message
                    ));
                }
            }
        }
    }
    None
}

/// Runs `wait`.
pub fn wait(home: &Home, model: &str, args: WaitArgs) -> Result<()> {
    let timeout = duration::parse(&args.timeout).map_err(CliError::Usage)?;
    let message = match &args.message_regex {
        Some(re) => {
            Some(Regex::new(re).map_err(|e| CliError::Usage(format!("invalid --message-regex: {e}")))?)
        }
        None => None,
    };
    let goal = Goal { app: args.app, units: args.units, workload: args.workload, message };
    let store = home.open(model)?;
    if let Some(app) = &goal.app {
        if !store.read()?.applications.contains_key(app) {
            return Err(CliError::Usage(format!("application \"{app}\" not found")));
        }
    }
    spawn::ensure_running(&store)?;
    let deadline = Instant::now() + timeout;
    loop {
        let state = store.read()?;
        let why = match unsettled(&state, &goal) {
            None => return Ok(()),
            Some(why) => why,
        };
        if Instant::now() >= deadline {
            eprint!("{}", super::status::tabular(&state));
            eprintln!("ERROR timed out after {}: {why}", args.timeout);
            return Err(CliError::Exit(1));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Application, StatusRecord, Unit};

    fn state(queue: bool, status: &str) -> ModelState {
        let mut s = ModelState::default();
        s.applications.insert("a".into(), Application { name: "a".into(), ..Application::default() });
        let mut u = Unit {
            name: "a/0".into(),
            application: "a".into(),
            workload_status: StatusRecord { status: status.into(), message: "ready".into(), since: 0.0 },
            ..Unit::default()
        };
        if queue {
            u.queue.push_back(QueuedEvent::Operation { id: 1 });
        }
        s.units.insert("a/0".into(), u);
        s
    }

    #[test]
    fn settles_only_when_idle_scaled_and_matching() {
        let goal = |units, workload: &str, re: &str| Goal {
            app: Some("a".into()),
            units,
            workload: Some(workload.into()),
            message: Some(Regex::new(re).unwrap()),
        };
        assert_eq!(unsettled(&state(false, "active"), &goal(Some(1), "active", "^ready$")), None);
        assert!(unsettled(&state(true, "active"), &goal(Some(1), "active", "")).unwrap().contains("busy"));
        assert!(unsettled(&state(false, "active"), &goal(Some(2), "active", "")).unwrap().contains("want 2"));
        assert!(unsettled(&state(false, "blocked"), &goal(None, "active", "")).unwrap().contains("blocked"));
        assert!(unsettled(&state(false, "active"), &goal(None, "active", "^x")).unwrap().contains("match"));
        let missing = Goal { app: Some("b".into()), units: None, workload: None, message: None };
        assert!(unsettled(&state(false, "active"), &missing).unwrap().contains("not found"));
    }
}
