#!/usr/bin/env bash
# Throughput of `leakscan dir` on >= 200 MB of real source text (crate
# sources from the local cargo registry, copied under varied names) with
# planted secrets, beside `cat` of the same files into /dev/null, all
# measured in the same run; plus start-up time (`leakscan stdin </dev/null`,
# median of 20). The tree is built once and cached under target/bench/.
#
#   bench/dir.sh            # build (release) if needed, then measure
#   MIN_MB=400 bench/dir.sh # a bigger tree (rebuilds the cache)
#   LEAKSCAN_BIN=/path/to/leakscan bench/dir.sh  # another binary (a
#                           # baseline build), no release build
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MIN_MB=${MIN_MB:-200}
BENCH=$ROOT/target/bench
TREE=$BENCH/tree
STAMP=$BENCH/tree-$MIN_MB.done
REGISTRY=${CARGO_HOME:-$HOME/.cargo}/registry/src

if [[ -z ${LEAKSCAN_BIN:-} ]]; then cargo build --release --quiet; fi
BIN=${LEAKSCAN_BIN:-$ROOT/target/release/leakscan}

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
mbps() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t / 1e6 }'; }

if [[ ! -f $STAMP ]]; then
    echo "building a ${MIN_MB} MB source tree under $TREE (once) ..." >&2
    rm -rf "$TREE" "$BENCH"/tree-*.done
    mkdir -p "$TREE"
    [[ -d $REGISTRY ]] || { echo "bench: no cargo registry sources at $REGISTRY" >&2; exit 2; }
    list=$BENCH/files.txt
    (cd "$REGISTRY" && find . -type f -size -1000k \( -name '*.rs' -o -name '*.toml' \
        -o -name '*.md' -o -name '*.json' -o -name '*.c' -o -name '*.h' -o -name '*.py' \
        -o -name '*.js' -o -name '*.txt' -o -name '*.yml' -o -name '*.yaml' -o -name '*.sh' \) \
        | LC_ALL=C sort >"$list")
    copy=0
    while :; do
        size=$(du -sbm "$TREE" | cut -f1)
        ((size >= MIN_MB)) && break
        (cd "$REGISTRY" && tar -cf - -T "$list") | (mkdir -p "$TREE/copy-$copy" && tar -xf - -C "$TREE/copy-$copy")
        copy=$((copy + 1))
    done
    # Ignore files inside crates would hide files from leakscan but not from cat.
    find "$TREE" \( -name .gitignore -o -name .ignore \) -delete
    # Planted secrets: 50 files, two fake credentials each.
    mkdir -p "$TREE/planted"
    for i in $(seq 0 49); do
        cat >"$TREE/planted/service-$i.env" <<EOF
# planted by bench/dir.sh
GITHUB_TOKEN=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
STRIPE_SECRET_KEY=sk_live_kqqeaA355XqA9adgpbthgRJK72wuXDMOPT
EOF
    done
    touch "$STAMP"
fi

files=$(find "$TREE" -type f | wc -l)
bytes=$(find "$TREE" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
echo "tree: $TREE: $files files, $((bytes / 1000000)) MB; $(nproc) cores"

# Warm the page cache so every measurement reads from memory.
find "$TREE" -type f -print0 | xargs -0 cat >/dev/null

t0=$(now)
find "$TREE" -type f -print0 | xargs -0 cat >/dev/null
t1=$(now)
cat_s=$(secs "$t0" "$t1")

OUT=$BENCH/findings.jsonl
measure() { # extra flags -> seconds; the report goes to $OUT
    local t0 t1
    t0=$(now)
    "$BIN" dir "$TREE" --quiet --format jsonl --output "$OUT" "$@" || [[ $? == 1 ]]
    t1=$(now)
    secs "$t0" "$t1"
}

all_s=$(measure)
all_findings=$(wc -l <"$OUT")
all_planted=$(grep -c '"path":"[^"]*planted/' "$OUT" || true)
one_s=$(measure --threads 1)
two_s=$(measure --threads 2)

printf '%-34s %8s %9s %8s\n' "what" "seconds" "MB/s" "vs cat"
row() { printf '%-34s %8s %9s %8s\n' "$1" "$2" "$(mbps "$bytes" "$2")" "$(awk -v a="$2" -v c="$cat_s" 'BEGIN { printf "%.2fx", a / c }')"; }
row "cat >/dev/null" "$cat_s"
row "leakscan dir (default threads)" "$all_s"
row "leakscan dir --threads 1" "$one_s"
row "leakscan dir --threads 2" "$two_s"
echo "findings: $all_findings ($all_planted of 100 planted found; the rest are in the crate sources)"

# Start-up: median of 20 runs on empty input.
times=()
for _ in $(seq 20); do
    t0=$(now)
    "$BIN" stdin --quiet </dev/null >/dev/null
    t1=$(now)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) * 1000 }')")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
echo "start-up (leakscan stdin </dev/null, median of 20): ${median} ms"
