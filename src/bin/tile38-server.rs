//! `tile38-server`: the Tile38-compatible server binary.

/// Counts live heap bytes, so that every write can be checked against
/// `maxmemory` (`tile38_engine::refusal`).
#[global_allocator]
static ALLOC: tile38_engine::alloc::Counting = tile38_engine::alloc::Counting;

fn main() {
    std::process::exit(tile38_server::run_cli());
}
