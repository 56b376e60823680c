//! `tile38-cli`: the command-line client (see the `tile38-cli` crate).
fn main() {
    std::process::exit(tile38_cli::main());
}
