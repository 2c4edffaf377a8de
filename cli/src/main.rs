//! The `cargo-observe` binary: everything is in the library.

fn main() -> std::process::ExitCode {
    cargo_observe::main()
}
