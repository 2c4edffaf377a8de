#!/usr/bin/env bash
# Build cost of the attribute: generates three crates of 300 functions each
# (100 `Result`-returning free functions with three arguments, 100
# `async fn`, 100 methods) with no attribute, `#[tracing::instrument]` and
# `#[observe(flow = "bulk", slow = "250ms")]`, builds their dependencies,
# then times touch-and-rebuild of each crate for `cargo build` and
# `cargo check`, interleaved, median of 3; and prints the expanded size
# per function (the crate's `-Zunpretty=expanded` output minus the
# no-attribute crate's, over 300; `RUSTC_BOOTSTRAP=1` lets the stable
# compiler take the `-Z` flag, for this measurement only).
#
#   bash scripts/bench-build.sh            # keeps nothing
#   KEEP=1 bash scripts/bench-build.sh     # leaves the generated workspace
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
[[ "${KEEP:-}" == 1 ]] || trap 'rm -rf "$work"' EXIT
rounds="${ROUNDS:-3}"
kinds=(plain instrument observe)

# The generated workspace shares one target directory, so the dependencies
# are built once for all three crates. `observe` without default features:
# the expansion is the same, and the HTTP stack stays out of the build.
cat >"$work/Cargo.toml" <<TOML
[workspace]
resolver = "3"
members = ["plain", "instrument", "observe"]

[workspace.dependencies]
observe = { path = "$repo", default-features = false }
tracing = "0.1.44"

[profile.dev]
debug = 0
TOML

generate() {
    local kind="$1" attr="$2" dir="$work/$1"
    mkdir -p "$dir/src"
    cat >"$dir/Cargo.toml" <<TOML
[package]
name = "bulk-$kind"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
observe.workspace = true
tracing.workspace = true
TOML
    {
        echo '#![allow(dead_code, unused_imports, clippy::all)]'
        echo 'use observe::observe;'
        echo '#[derive(Debug)]'
        echo 'pub struct BulkError(pub u64);'
        echo 'impl std::fmt::Display for BulkError {'
        echo '    fn fmt(&self, f: &mut std::fmt::Formatter<'"'"'_>) -> std::fmt::Result { write!(f, "bulk error {}", self.0) }'
        echo '}'
        echo 'impl std::error::Error for BulkError {}'
        echo '#[derive(Debug, Default)]'
        echo 'pub struct Service { pub base: u64 }'
        for i in $(seq 0 99); do
            echo "$attr"
            echo "pub fn compute_$i(id: u64, name: &str, strict: bool) -> Result<u64, BulkError> {"
            echo "    if strict && name.is_empty() { return Err(BulkError(id)); }"
            echo "    Ok(id.wrapping_mul($i) + name.len() as u64)"
            echo "}"
        done
        for i in $(seq 0 99); do
            echo "$attr"
            echo "pub async fn fetch_$i(id: u64) -> u64 {"
            echo "    id.wrapping_add($i)"
            echo "}"
        done
        echo 'impl Service {'
        for i in $(seq 0 99); do
            echo "    $attr"
            echo "    pub fn handle_$i(&self, id: u64) -> u64 {"
            echo "        self.base.wrapping_add(id).wrapping_mul($i)"
            echo "    }"
        done
        echo '}'
    } >"$dir/src/lib.rs"
}

generate plain ""
generate instrument "#[tracing::instrument]"
generate observe '#[observe(flow = "bulk", slow = "250ms")]'

# The workspace's lock file: the same dependency versions, no resolution.
cp "$repo/Cargo.lock" "$work/Cargo.lock"
cd "$work"
export CARGO_TARGET_DIR="$work/target"
echo "building the dependencies in $work ..." >&2
for kind in "${kinds[@]}"; do
    cargo build -q -p "bulk-$kind"
    cargo check -q -p "bulk-$kind"
done

# Seconds of one touch-and-rebuild.
time_one() {
    local command="$1" kind="$2" start end
    touch "$work/$kind/src/lib.rs"
    start=$(date +%s.%N)
    cargo "$command" -q -p "bulk-$kind"
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

declare -A samples
for round in $(seq 1 "$rounds"); do
    for kind in "${kinds[@]}"; do
        for command in build check; do
            seconds=$(time_one "$command" "$kind")
            samples["$command/$kind"]+="$seconds "
            echo "round $round: cargo $command $kind ${seconds}s" >&2
        done
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A med
for key in "${!samples[@]}"; do
    med[$key]=$(echo "${samples[$key]}" | median)
done

expanded_bytes() {
    RUSTC_BOOTSTRAP=1 cargo rustc -q -p "bulk-$1" --profile=check -- -Zunpretty=expanded | wc -c
}
declare -A size
for kind in "${kinds[@]}"; do
    size[$kind]=$(expanded_bytes "$kind")
done

ratio() { echo "scale=2; $1 / $2" | bc; }
echo
echo "touch-and-rebuild of a 300-function crate, median of $rounds ($(date -u +%F), $(nproc) cores)"
printf '%-44s %12s %12s %16s\n' "" "cargo build" "cargo check" "expanded/fn"
for kind in "${kinds[@]}"; do
    case "$kind" in
        plain) label="no attribute" ;;
        instrument) label="#[tracing::instrument]" ;;
        observe) label='#[observe(flow = "bulk", slow = "250ms")]' ;;
    esac
    per_fn=$(( (size[$kind] - size[plain]) / 300 ))
    printf '%-44s %11.2fs %11.2fs %14s B\n' "$label" "${med[build/$kind]}" "${med[check/$kind]}" "$per_fn"
done
echo
echo "ratios, #[observe] / #[tracing::instrument] (target <= 1.5x each, expanded size <= 2x)"
echo "  cargo build: $(ratio "${med[build/observe]}" "${med[build/instrument]}")x"
echo "  cargo check: $(ratio "${med[check/observe]}" "${med[check/instrument]}")x"
echo "  expanded size per function: $(ratio "$(( size[observe] - size[plain] ))" "$(( size[instrument] - size[plain] ))")x"
