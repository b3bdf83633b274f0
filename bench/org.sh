#!/usr/bin/env bash
# Throughput of a multi-repository scan (issue 17): N real repositories made
# by git (each a few commits over copies of this project's sources), scanned
# as file:// URLs by one `leakscan git --repos-file`, against a baseline in
# the same run: a shell loop that mirrors each and runs `leakscan git` on it.
# Usage: bench/org.sh NEW_BINARY [BASELINE_BINARY] [N]
set -euo pipefail
new=${1:?new leakscan binary}; base=${2:-$new}; n=${3:-60}
src=$(cd "$(dirname "$0")/.." && pwd)
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
t0=$(date +%s.%N)
while read -r u; do
  d=$work/loop/$(basename "$u"); git clone -q --mirror "$u" "$d"
  "$base" git "$d" --format jsonl -q > /dev/null || [ $? -eq 1 ]; rm -rf "$d"
done < "$work/list"
t1=$(date +%s.%N)
"$new" git --repos-file "$work/list" --format jsonl -o "$work/out.jsonl" 2> "$work/err" || [ $? -eq 1 ]
t2=$(date +%s.%N)
tail -2 "$work/err"
python3 - "$t0" "$t1" "$t2" "$n" <<'PY'
import sys
t0, t1, t2, n = map(float, sys.argv[1:])
loop, multi = t1 - t0, t2 - t1
print(f"baseline loop (clone + leakscan git per repo): {loop:.2f}s, {n/loop:.1f} repos/s")
print(f"leakscan git --repos-file:                     {multi:.2f}s, {n/multi:.1f} repos/s ({loop/multi:.2f}x)")
PY
