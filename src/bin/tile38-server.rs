//! `tile38-server`: the Tile38-compatible server binary.
fn main() {
    std::process::exit(tile38_server::run_cli());
}
