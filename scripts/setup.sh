#!/usr/bin/env bash
# Installs what the tests need on a fresh machine. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "setup: cargo is required (install Rust with rustup)" >&2; exit 2; }
command -v git >/dev/null || { echo "setup: git is required" >&2; exit 2; }
# tests/org_audit.rs serves repositories with `git daemon` (part of Debian's git package).
[ -x "$(git --exec-path)/git-daemon" ] || { (apt-get update && apt-get install -y git) >/dev/null 2>&1 || sudo apt-get install -y git >/dev/null; }
[ -x "$(git --exec-path)/git-daemon" ] || { echo "setup: \`git daemon\` is required by tests/org_audit.rs" >&2; exit 2; }
git config --global user.name >/dev/null 2>&1 || git config --global user.name "leakscan tests"
git config --global user.email >/dev/null 2>&1 || git config --global user.email "tests@leakscan.invalid"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# GNU time measures peak RSS in tests/hostile.rs.
[ -x /usr/bin/time ] || { (apt-get update && apt-get install -y time) >/dev/null 2>&1 || sudo apt-get install -y time >/dev/null; }
[ -x /usr/bin/time ] || { echo "setup: GNU time (/usr/bin/time) is required by tests/hostile.rs" >&2; exit 2; }
command -v setpriv >/dev/null || { echo "setup: setpriv (util-linux) is required by tests/hostile.rs" >&2; exit 2; }
# The pre-commit framework, for tests/precommit.rs (git-history).
python3 -m pip install --quiet --disable-pip-version-check 'pre-commit==4.*'
# pyenv only creates shims for new console scripts on a rehash.
if command -v pyenv >/dev/null; then pyenv rehash; fi
command -v pre-commit >/dev/null || { echo "setup: pre-commit did not install" >&2; exit 2; }
# check-jsonschema (its builtin GitHub Actions schema, offline) and the YAML
# parser the action's mini runner uses, for tests/action.rs (sarif-ci).
python3 -m pip install --quiet --disable-pip-version-check 'check-jsonschema==0.39.0'
if command -v pyenv >/dev/null; then pyenv rehash; fi
command -v check-jsonschema >/dev/null || { echo "setup: check-jsonschema did not install" >&2; exit 2; }
python3 -c 'import ruamel.yaml' || { echo "setup: ruamel.yaml (check-jsonschema's dependency) is missing" >&2; exit 2; }
# Verification tests: the local OpenID provider (oidc-provider, pinned by tests/idp/package-lock.json).
command -v node >/dev/null || { echo "setup: node (20 or later) is required for the verification tests" >&2; exit 2; }
command -v npm >/dev/null || { echo "setup: npm is required for the verification tests" >&2; exit 2; }
npm ci --prefix tests/idp --no-audit --no-fund >/dev/null
# tests/html_report.rs loads the HTML report in headless Chromium (Debian's package).
if [ ! -x /usr/bin/chromium ] && [ ! -x /usr/lib/chromium/chromium ]; then
  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium) >/dev/null 2>&1 \
    || sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null
fi
[ -x /usr/bin/chromium ] || [ -x /usr/lib/chromium/chromium ] || { echo "setup: chromium is required by tests/html_report.rs" >&2; exit 2; }
# tests/issue16.rs makes its archives with the real tools: zip, jar (a JDK),
# tar with gzip, bzip2, xz and zstd.
missing=()
for t in zip:zip jar:default-jdk-headless bzip2:bzip2 xz:xz-utils zstd:zstd; do
  command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}") >/dev/null 2>&1 \
    || sudo DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null
fi
for t in zip jar tar gzip bzip2 xz zstd; do
  command -v "$t" >/dev/null || { echo "setup: $t is required by tests/issue16.rs" >&2; exit 2; }
done
# tests/cli.rs builds a real PKCS#12 keystore with the openssl command line.
command -v openssl >/dev/null || { (apt-get update && apt-get install -y openssl) >/dev/null 2>&1 || sudo apt-get install -y openssl >/dev/null; }
command -v openssl >/dev/null || { echo "setup: openssl is required by tests/cli.rs" >&2; exit 2; }
