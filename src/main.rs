//! `dispatch`: the charm's one binary. Environment → [`Context`] + [`Event`] → [`charm::run`] →
//! exit code; `dispatch supervise …` runs the direct service supervisor instead, `dispatch relay …`
//! the root-side relay of the services' requests (`workload::relay`), and `dispatch metrics-serve …`
//! the charm's metrics server (`workload::metrics_serve`).

use valkey_charm::charm;
use valkey_charm::juju::{Context, Event, ProcessHookTools};
use valkey_charm::workload::supervise_main;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("supervise") {
        std::process::exit(supervise_main(&args));
    }
    if args.get(1).map(String::as_str) == Some("metrics-serve") {
        std::process::exit(valkey_charm::workload::metrics_serve::main(&args));
    }
    if args.get(1).map(String::as_str) == Some("relay") {
        std::process::exit(valkey_charm::workload::relay::main(&args));
    }
    let ctx = match Context::from_process_env() {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("dispatch: {e}");
            std::process::exit(2);
        }
    };
    // From here on `tracing` events go to juju-log (the supervisor above is no hook: stderr only).
    let tools = ProcessHookTools::new();
    valkey_charm::juju::log::install(tools.clone());
    let argv0 = args.first().map(String::as_str).unwrap_or("dispatch");
    let event = Event::from_invocation(ctx.dispatch_path.as_deref(), argv0);
    std::process::exit(charm::run(&ctx, &event, &tools));
}
