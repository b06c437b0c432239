//! `jujuc`: the hook tools as one multi-call binary. The model links every tool name to it; the
//! tool is the file name it was run as (or, run as `jujuc`, its first argument, like Juju's).
//! Errors print `ERROR <msg>` on stderr and exit 2 (usage) or 1 (run time).

use juju_local::tools::{self, context::HookEnv, Streams};
use std::path::PathBuf;

fn main() {
    // Die quietly on a closed pipe (`relation-ids x | head -n1`) like Juju's Go tools, instead of
    // reporting a write error. SAFETY: resetting a signal disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let mut argv = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    let argv0 = PathBuf::from(argv.next().unwrap_or_default());
    let mut args: Vec<String> = argv.collect();
    let mut name = argv0.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name == "jujuc" {
        if args.is_empty() {
            eprintln!("ERROR usage: jujuc <tool> [args...]");
            std::process::exit(2);
        }
        name = args.remove(0);
    }
    let env = HookEnv::from_lookup(&argv0, |k| std::env::var(k).ok());
    let (mut stdin, mut stdout, mut stderr) = (std::io::stdin(), std::io::stdout(), std::io::stderr());
    let mut io = Streams { stdin: &mut stdin, stdout: &mut stdout, stderr: &mut stderr };
    let code = match tools::run(&name, &args, env, &mut io) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("ERROR {err}");
            err.exit_code()
        }
    };
    let _ = std::io::Write::flush(&mut std::io::stdout());
    std::process::exit(code);
}
