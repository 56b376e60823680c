//! `tile38-benchmark`: Tile38's load generator (see the `tile38-bench` crate).
fn main() {
    std::process::exit(tile38_bench::main());
}
