#!/usr/bin/env bash
# Runs every test of the workspace. Installs what the real-component tests
# need when it is missing (Debian's prometheus package: the Prometheus server
# and promtool), so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  echo "installing Debian's prometheus package (server + promtool) for the real-component tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# The docs build without broken links or missing docs, and their examples
# (the #[observe] reference, shown on hover and on docs.rs) run as tests.
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
cargo test --workspace --doc "$@"
cargo test --workspace --all-targets "$@"
