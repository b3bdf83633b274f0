#!/usr/bin/env bash
# Full-history throughput: MB/s of unique blob bytes and peak RSS for
# `leakscan git` (2 threads), beside the same pass without matching, without
# delta-derived keyword hits, `git cat-file --batch-all-objects --batch`, and
# both passes again with the libgit2 reader, all in one run; for the
# history as fast-import packed it and again as `git repack -adf` packs it.
# The repository (>= 1 GB of unique blob bytes from real source text) is
# generated once and cached under target/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE
THREADS=${THREADS:-2}
TARGET_BYTES=${TARGET_BYTES:-1100000000}
SRC=${BENCH_SRC:-$(ls -d "$HOME"/.cargo/registry/src/*/ | head -1)}
REPO=target/bench/history-repo
command -v /usr/bin/time >/dev/null || { echo "install GNU time: apt-get install -y time" >&2; exit 2; }

if [ ! -f "$REPO/.complete" ]; then
  rm -rf "$REPO"
  mkdir -p "$REPO"
  git init -q --bare "$REPO"
  echo "generating the benchmark repository from $SRC ..." >&2
  python3 bench/gen_history.py "$SRC" "$TARGET_BYTES" | git -C "$REPO" fast-import --quiet
  git -C "$REPO" repack -adq
  touch "$REPO/.complete"
fi
# The same history packed the way `git gc --aggressive` (or a clone from a
# forge) packs it: `repack -adf` recomputes deltas, where `repack -ad` above
# keeps fast-import's few (most blob versions there are stored whole).
GC_REPO=target/bench/history-repo-gc
if [ ! -f "$GC_REPO/.complete" ]; then
  rm -rf "$GC_REPO"
  cp -r "$REPO" "$GC_REPO"
  rm -f "$GC_REPO/.complete"
  echo "repacking a copy with git repack -adf ..." >&2
  git -C "$GC_REPO" repack -adfq
  touch "$GC_REPO/.complete"
fi

# LEAKSCAN_BIN overrides the binary (and skips the release build).
if [ -z "${LEAKSCAN_BIN:-}" ]; then cargo build --release --quiet; fi
BIN=${LEAKSCAN_BIN:-target/release/leakscan}

blob_bytes=$(git -C "$REPO" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' |
  awk '$1=="blob"{s+=$2} END{print s}')
blobs=$(git -C "$REPO" cat-file --batch-all-objects --batch-check='%(objecttype)' | grep -c '^blob$')
commits=$(git -C "$REPO" rev-list --count --all)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (wall figures are only meaningful on an idle machine)"
echo "repository: $commits commits, $blobs unique blobs, $blob_bytes unique blob bytes"

# run NAME CMD...: wall seconds and peak RSS from GNU time.
run() {
  local name=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
  local wall rss cpu
  cpu=$(awk -F': ' '/User time|System time/{s+=$2} END{print s}' "$log")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$log" |
    awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$log")
  awk -v n="$name" -v w="$wall" -v b="$blob_bytes" -v r="$rss" -v c="$cpu" \
    'BEGIN{ printf "%-36s wall %7.2f s %7.1f MB/s | cpu %7.2f s %7.1f MB/cpu-s | peak RSS %7.1f MB\n", n, w, b/1e6/w, c, b/1e6/c, r/1024 }'
  rm -f "$log"
}

# bench REPO: every line for one packing of the history.
bench() {
  local REPO=$1
  local stored
  stored=$(git verify-pack -v "$REPO"/objects/pack/*.idx |
    awk '$2=="blob"{ if (NF>=7) d++; else r++ } END{printf "%d of %d blob versions stored whole", r, r+d}')
  echo
  echo "== $REPO: objects $(du -sh "$REPO/objects" | cut -f1), $stored"
  run "leakscan git (match, $THREADS threads)" "$BIN" git "$REPO" --threads "$THREADS" -q --format json -o /dev/null
  run "leakscan git --no-match ($THREADS thr)" "$BIN" git "$REPO" --threads "$THREADS" -q --no-match --format json -o /dev/null
  # Every blob's keywords searched whole, none derived from its delta base's.
  run "--no-delta-hits (match, $THREADS thr)" "$BIN" git "$REPO" --threads "$THREADS" -q --no-delta-hits --format json -o /dev/null
  # The same passes through libgit2 for every object (`--git-reader libgit2`),
  # the reader before leakscan's own pack reader.
  run "libgit2 reader (match, $THREADS thr)" "$BIN" git "$REPO" --threads "$THREADS" -q --git-reader libgit2 --format json -o /dev/null
  run "libgit2 reader --no-match ($THREADS thr)" "$BIN" git "$REPO" --threads "$THREADS" -q --git-reader libgit2 --no-match --format json -o /dev/null
  run "git cat-file --batch-all-objects" sh -c "git -C '$REPO' cat-file --batch-all-objects --batch >/dev/null"
}

bench "$REPO"
bench "$GC_REPO"
