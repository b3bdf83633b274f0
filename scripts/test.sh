#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need
# (Python tools, the npm identity provider), then formatting, lints, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets --all-features -- -D warnings
echo "== cargo test"
cargo test --all-features --workspace
echo "== rules check"
cargo run --quiet -- rules check
echo "== self scan (the project's own fake secrets are allowed by .leakscan.toml)"
cargo run --quiet -- dir . --quiet
echo "== self scan of the project's own git history (fake keys of older versions are in .leakscanignore)"
cargo run --quiet -- git . --quiet
echo "== fuzz targets build (cargo-fuzz; stable toolchain with nightly flags allowed)"
(cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -s none)
