#!/usr/bin/env bash
# Installs what the tests need on a fresh machine. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "setup: cargo is required (install Rust with rustup)" >&2; exit 2; }
command -v git >/dev/null || { echo "setup: git is required" >&2; exit 2; }
git config --global user.name >/dev/null 2>&1 || git config --global user.name "leakscan tests"
git config --global user.email >/dev/null 2>&1 || git config --global user.email "tests@leakscan.invalid"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# tests/cli.rs builds a real PKCS#12 keystore with the openssl command line.
command -v openssl >/dev/null || { (apt-get update && apt-get install -y openssl) >/dev/null 2>&1 || sudo apt-get install -y openssl >/dev/null; }
command -v openssl >/dev/null || { echo "setup: openssl is required by tests/cli.rs" >&2; exit 2; }
