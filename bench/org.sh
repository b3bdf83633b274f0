#!/usr/bin/env bash
# Throughput of a multi-repository scan (issue 17): N real repositories made
# by git (each a few commits over copies of this project's sources), scanned
# as file:// URLs by one `leakscan git --repos-file`, against a baseline in
# the same run: a shell loop that mirrors each and runs `leakscan git` on it.
# Usage: bench/org.sh [NEW_BINARY [BASELINE_BINARY [N]]]
# NEW_BINARY defaults to $LEAKSCAN_BIN, else a release build of this
# checkout; the baseline loop runs BASELINE_BINARY (default: the same).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
new=${1:-${LEAKSCAN_BIN:-}}
if [ -z "$new" ]; then (cd "$src" && cargo build --release --quiet); new=$src/target/release/leakscan; fi
base=${2:-$new}; n=${3:-60}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@example.invalid \
  GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@example.invalid
files=$(cd "$src" && git ls-files 'src/*.rs' 'scanner/src/*.rs' 'rules/packs/*.toml' | head -200)
for i in $(seq 1 "$n"); do
  r=$work/w/r$i; mkdir -p "$r"; git -C "$r" init -q -b main
  k=0
  for f in $files; do
    k=$((k+1)); [ $(( (k + i) % 3 )) -eq 0 ] || continue
    mkdir -p "$r/$(dirname "$f")"; cp "$src/$f" "$r/$f"
    if [ $((k % 40)) -eq 0 ]; then git -C "$r" add -A; git -C "$r" commit -qm "c$k"; fi
  done
  echo "tok=ghp_$(printf '%036d' "$i" | tr 0-9 A-J)" > "$r/.env"
  git -C "$r" add -A; git -C "$r" commit -qm last
  git clone -q --bare "$r" "$work/s/r$i.git"; rm -rf "$r"
  echo "file://$work/s/r$i.git" >> "$work/list"
done
bytes=$(du -sb "$work/s" | cut -f1)
echo "$n repositories, $(( bytes / 1000000 )) MB of packed git"
# Run away from this checkout: its .leakscan.toml and ignore file must not apply.
cd "$work"
export base work
# Wall and CPU time (user + system, children included) of each way.
/usr/bin/time -f '%e %U %S %M' -o "$work/t-loop" bash -c '
while read -r u; do
  d=$work/loop/$(basename "$u"); git clone -q --mirror "$u" "$d"
  "$base" git "$d" --format jsonl -q >> "$work/loop.jsonl" || [ $? -eq 1 ]; rm -rf "$d"
done < "$work/list"'
/usr/bin/time -f '%e %U %S %M' -o "$work/t-multi" \
  "$new" git --repos-file "$work/list" --format jsonl -o "$work/out.jsonl" --stats "$work/stats.json" 2> "$work/err" || [ $? -eq 1 ]
tail -2 "$work/err"
python3 - "$work" "$n" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
def t(name):
    wall, user, sys_, rss = open(f"{work}/t-{name}").read().split()[-4:]
    return float(wall), float(user) + float(sys_), int(rss)
stats = json.load(open(f"{work}/stats.json"))
mb = stats.get("bytes_scanned", 0) / 1e6
count = lambda f: sum(1 for l in open(f) if l.strip())
(lw, lc, _), (mw, mc, mr) = t("loop"), t("multi")
print(f"blob bytes scanned: {mb:.1f} MB; findings: loop {count(work + '/loop.jsonl')}, multi {count(work + '/out.jsonl')}")
print(f"baseline loop (clone + leakscan git per repo): wall {lw:.2f}s ({n/lw:.2f} repos/s, {mb/lw:.2f} MB/s), CPU {lc:.2f}s")
print(f"leakscan git --repos-file:                     wall {mw:.2f}s ({n/mw:.2f} repos/s, {mb/mw:.2f} MB/s), CPU {mc:.2f}s, peak RSS {mr/1024:.0f} MB")
print(f"ratio (loop / multi): wall {lw/mw:.2f}x, CPU {lc/mc:.2f}x")
PY
