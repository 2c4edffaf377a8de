//! Benchmarks live in `benches/overhead.rs` (`#[observe]` against the
//! hand-written equivalent and the peers under light subscribers) and
//! `benches/production.rs` (under `observe::init()` against the production
//! stack wired by hand, one process per set-up); run
//! `cargo bench -p observe-benches`. `instructions.sh` counts instructions
//! per call of the production scenarios with callgrind.
