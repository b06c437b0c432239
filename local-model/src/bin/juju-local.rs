//! `juju-local`: the CLI of the local model (see the library's `cli` module).

fn main() {
    std::process::exit(juju_local::cli::main());
}
