//! `tile38-server`: the Tile38-compatible server binary.

/// Counts live heap bytes, so that every write can be checked against
/// `maxmemory` (`tile38_server::gate`).
#[global_allocator]
static ALLOC: tile38_server::alloc::Counting = tile38_server::alloc::Counting;

fn main() {
    std::process::exit(tile38_server::run_cli());
}
