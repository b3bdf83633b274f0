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

if [ ! -f "$REPO.complete" ]; then
  rm -rf "$REPO"
  mkdir -p "$REPO"
  git -C "$REPO" init -q -b main
  git -C "$REPO" config user.name bench
  git -C "$REPO" config user.email bench@leakscan.invalid
  # 10,000 real source files in 100 folders (head ends find early).
  set +o pipefail
  find "$SRC" -type f \( -name '*.rs' -o -name '*.md' -o -name '*.toml' \) -size -64k | head -10000 | awk '{printf "%s\t%d\n", $0, NR}' |
    while IFS=$'\t' read -r f n; do
      d=$REPO/src/d$((n % 100))
      mkdir -p "$d"
      cp "$f" "$d/f$n.${f##*.}"
    done
  set -o pipefail
  git -C "$REPO" add -A
  git -C "$REPO" commit -qm "10,000 files"
  touch "$REPO.complete"
fi
echo "tracked files: $(git -C "$REPO" ls-files | wc -l)"

# LEAKSCAN_BIN overrides the binary (and skips the release build).
if [ -z "${LEAKSCAN_BIN:-}" ]; then cargo build --release --quiet; fi
BIN=${LEAKSCAN_BIN:-$PWD/target/release/leakscan}

# Stage a few modified files (no secrets: the common, passing case).
git -C "$REPO" reset -q --hard
for n in 11 222 3333 4444 7777; do
  f=$(git -C "$REPO" ls-files | sed -n "${n}p")
  echo "// edited for the benchmark" >> "$REPO/$f"
  git -C "$REPO" add "$f"
done
git -C "$REPO" status --short | head

# median WALL_MS CPU_MS of RUNS runs of a command, to 0.1 ms (CPU = user +
# sys of the child, which stays meaningful on a loaded machine).
medians() {
  python3 - "$RUNS" "$@" <<'PY'
import resource, statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
wall, cpu = [], []
for _ in range(runs):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall.append(time.perf_counter() - t0)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
print(f"{statistics.median(wall) * 1000:.1f} {statistics.median(cpu) * 1000:.1f}")
PY
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
(cd "$REPO" && "$BIN" staged) || { echo "leakscan staged failed on a clean change" >&2; exit 1; }
read -r ls_wall ls_cpu < <(cd "$REPO" && medians "$BIN" staged)
read -r git_wall git_cpu < <(cd "$REPO" && medians git diff --cached --no-ext-diff -U0)
echo "leakscan staged:     median wall ${ls_wall} ms, cpu ${ls_cpu} ms over $RUNS runs"
echo "git diff --cached:   median wall ${git_wall} ms, cpu ${git_cpu} ms (baseline)"
git -C "$REPO" reset -q --hard
