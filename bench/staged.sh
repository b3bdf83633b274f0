#!/usr/bin/env bash
# `leakscan staged` latency: median wall time over RUNS runs for a commit of
# a few files in a repository with 10,000 tracked files (cached under
# target/bench/), beside `git diff --cached` on the same index.
set -euo pipefail
cd "$(dirname "$0")/.."
unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE
RUNS=${RUNS:-25}
REPO=$PWD/target/bench/staged-repo
SRC=${BENCH_SRC:-$(ls -d "$HOME"/.cargo/registry/src/*/ | head -1)}

if [ ! -f "$REPO/.complete" ]; then
  rm -rf "$REPO"
  mkdir -p "$REPO"
  git -C "$REPO" init -q -b main
  git -C "$REPO" config user.name bench
  git -C "$REPO" config user.email bench@leakscan.invalid
  # 10,000 real source files in 100 folders (head ends find early).
  set +o pipefail
  find "$SRC" -type f -name '*.rs' -size -64k | head -10000 | awk '{printf "%s\t%d\n", $0, NR}' |
    while IFS=$'\t' read -r f n; do
      d=$REPO/src/d$((n % 100))
      mkdir -p "$d"
      cp "$f" "$d/f$n.rs"
    done
  set -o pipefail
  git -C "$REPO" add -A
  git -C "$REPO" commit -qm "10,000 files"
  touch "$REPO/.complete"
fi
echo "tracked files: $(git -C "$REPO" ls-files | wc -l)"

cargo build --release --quiet
BIN=$PWD/target/release/leakscan

# Stage a few modified files (no secrets: the common, passing case).
git -C "$REPO" reset -q --hard
for n in 11 222 3333 4444 7777; do
  f=$(git -C "$REPO" ls-files | sed -n "${n}p")
  echo "// edited for the benchmark" >> "$REPO/$f"
  git -C "$REPO" add "$f"
done
git -C "$REPO" status --short | head

median_ms() { # runs a command RUNS times, prints the median in ms
  local times=()
  for _ in $(seq "$RUNS"); do
    local s e
    s=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s%N)
    times+=($(( (e - s) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'
}

(cd "$REPO" && "$BIN" staged) || { echo "leakscan staged failed on a clean change" >&2; exit 1; }
ls_ms=$(cd "$REPO" && median_ms "$BIN" staged)
git_ms=$(cd "$REPO" && median_ms git diff --cached --no-ext-diff -U0)
echo "leakscan staged: median ${ls_ms} ms over $RUNS runs (git diff --cached: ${git_ms} ms)"
git -C "$REPO" reset -q --hard
