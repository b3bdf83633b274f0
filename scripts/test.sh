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
echo "== the own history with nothing allowed: the same findings with delta-derived keyword hits, whole searches and the libgit2 reader"
self=$(mktemp -d)
: >"$self/empty.toml"
# A clone over the git protocol is packed with deltas (a working repository
# may hold only loose objects, which the pack reader leaves to libgit2).
git clone --quiet --no-local --bare . "$self/clone.git"
n=0
for how in "" "--no-delta-hits" "--git-reader libgit2"; do
  n=$((n + 1))
  # Exit 1: findings (expected: the fixtures' fake secrets).
  # shellcheck disable=SC2086
  cargo run --quiet -- git "$self/clone.git" --quiet --config "$self/empty.toml" --format json -o "$self/$n.json" $how || [ $? -eq 1 ]
done
python3 - "$self" <<'PY'
import json, sys
d = sys.argv[1]
runs = [sorted(json.dumps(f, sort_keys=True) for f in json.load(open(f"{d}/{n}.json"))) for n in (1, 2, 3)]
assert len(runs[0]) > 100, f"only {len(runs[0])} findings in the own history"
assert runs[0] == runs[1] == runs[2], "findings differ between the history readers"
print(f"{len(runs[0])} findings, identical")
PY
rm -rf "$self"
