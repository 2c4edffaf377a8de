//! Benchmarks live in `benches/overhead.rs`; run `cargo bench -p observe-benches`.
