#!/usr/bin/env bash
# Proves that a change to the matcher or the prefilter keeps every finding:
# records a binary's JSON Lines findings (sorted) on the fixtures, real code
# (the local cargo registry, Python's library and installed packages) and
# this project's git history, then compares another binary's with them.
#
#   bench/same_findings.sh record [BIN]   # BIN: default /work/bin/leakscan
#   bench/same_findings.sh check [BIN]    # BIN: default target/release/leakscan
#
# Inputs are copied or cloned once under target/same-findings/ (the fixture
# tree is path-allowlisted where it lives, and the history is frozen so that
# new commits do not change it); the recorded outputs live beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${SAME_DIR:-$ROOT/target/same-findings}
mode=${1:?usage: bench/same_findings.sh record|check [BIN]}
case $mode in
  record) BIN=${2:-/work/bin/leakscan} ;;
  check) BIN=${2:-$ROOT/target/release/leakscan} ;;
  *) echo "usage: bench/same_findings.sh record|check [BIN]" >&2; exit 2 ;;
esac
REGISTRY=${CARGO_HOME:-$HOME/.cargo}/registry/src
PYLIB=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')

mkdir -p "$DIR"
if [[ ! -d $DIR/fixtures ]]; then cp -r fixtures "$DIR/fixtures"; fi
if [[ ! -d $DIR/history.git ]]; then git clone -q --mirror "$ROOT" "$DIR/history.git"; fi
# No config and no ignore file: the project's own allowlist would hide its
# fake secrets, which are the point here.
: >"$DIR/empty.toml"
: >"$DIR/empty.ignore"

out=$DIR/$mode
rm -rf "$out"
mkdir -p "$out"
# scan NAME ARGS...: sorted findings into $out/NAME.jsonl.
scan() {
  local name=$1; shift
  "$BIN" "$@" --config "$DIR/empty.toml" --ignore-file "$DIR/empty.ignore" -q --format jsonl \
    -o "$out/$name.raw" || [[ $? == 1 ]]
  LC_ALL=C sort "$out/$name.raw" >"$out/$name.jsonl"
  rm "$out/$name.raw"
  printf '%-10s %6d findings\n' "$name" "$(wc -l <"$out/$name.jsonl")"
}
scan fixtures dir "$DIR/fixtures" --no-ignore
scan registry dir "$REGISTRY" --no-ignore
scan python dir "$PYLIB" --no-ignore
scan history git "$DIR/history.git" --no-delta-hits
scan history-delta git "$DIR/history.git"

if [[ $mode == check ]]; then
  [[ -d $DIR/record ]] || { echo "nothing recorded: run bench/same_findings.sh record first" >&2; exit 2; }
  status=0
  for f in "$DIR"/record/*.jsonl; do
    name=$(basename "$f")
    if ! cmp -s "$f" "$out/$name"; then
      echo "DIFFERENT: $name" >&2
      diff <(cut -c1-300 "$f") <(cut -c1-300 "$out/$name") | head -20 >&2 || true
      status=1
    fi
  done
  [[ $status == 0 ]] && echo "same findings as recorded"
  exit $status
fi
