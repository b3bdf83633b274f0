#!/usr/bin/env bash
# Throughput of `leakscan dir` on a tree of real archives (issue 16): the
# local cargo registry's .crate files (tar.gz), and the wheels and jars found
# under the Python installs and the JDK, copied under varied names until the
# tree holds MIN_MB of archive bytes, plus planted secrets inside a zip, a
# tar.gz and a nested jar. Reports MB of archive bytes (as stored) and of
# bytes extracted per CPU second (GNU time: the machine may be loaded), and
# the same tree with --no-extract, in the same run.
# The tree is built once and cached under target/bench/.
#
#   bench/archives.sh                       # build (release) if needed
#   MIN_MB=200 bench/archives.sh            # a bigger tree
#   LEAKSCAN_BIN=/path/to/leakscan bench/archives.sh
set -euo pipefail
command -v /usr/bin/time >/dev/null || { echo "install GNU time: apt-get install -y time" >&2; exit 2; }
cd "$(dirname "$0")/.."
ROOT=$PWD
MIN_MB=${MIN_MB:-100}
BENCH=$ROOT/target/bench
TREE=$BENCH/archives
STAMP=$BENCH/archives-$MIN_MB.done
CACHE=${CARGO_HOME:-$HOME/.cargo}/registry/cache

if [[ -z ${LEAKSCAN_BIN:-} ]]; then cargo build --release --quiet; fi
BIN=${LEAKSCAN_BIN:-$ROOT/target/release/leakscan}

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
mbps() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f", n / t / 1e6 }'; }

if [[ ! -f $STAMP ]]; then
    echo "building a ${MIN_MB} MB archive tree under $TREE (once) ..." >&2
    rm -rf "$TREE" "$BENCH"/archives-*.done
    mkdir -p "$TREE"
    list=$BENCH/archives.txt
    { find "$CACHE" -name '*.crate' -size -20M 2>/dev/null
      find /root/.pyenv /usr/lib/python3* /usr/share/java /usr/lib/jvm -xdev \
          \( -name '*.whl' -o -name '*.jar' \) -size -20M 2>/dev/null || true
    } | LC_ALL=C sort >"$list"
    [[ -s $list ]] || { echo "bench: no .crate, .whl or .jar files found" >&2; exit 2; }
    copy=0
    while :; do
        size=$(du -sbm "$TREE" | cut -f1)
        ((size >= MIN_MB)) && break
        mkdir -p "$TREE/copy-$copy"
        i=0
        while read -r f; do
            cp "$f" "$TREE/copy-$copy/$i-$(basename "$f")"
            i=$((i + 1))
        done <"$list"
        copy=$((copy + 1))
    done
    # Planted: a token in a zip, a tar.gz, and a zip inside a jar.
    p=$BENCH/planted-src
    rm -rf "$p" && mkdir -p "$p/app"
    printf 'GITHUB_TOKEN=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\n' >"$p/app/.env"
    (cd "$p" && zip -qr "$TREE/planted.zip" app && tar czf "$TREE/planted.tar.gz" app &&
        zip -q inner.zip app/.env && zip -q "$TREE/planted.jar" inner.zip)
    touch "$STAMP"
fi

files=$(find "$TREE" -type f | wc -l)
bytes=$(find "$TREE" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
echo "tree: $TREE: $files archives, $((bytes / 1000000)) MB; $(nproc) cores"
find "$TREE" -type f -print0 | xargs -0 cat >/dev/null

OUT=$BENCH/archives.jsonl
STATS=$BENCH/archives-stats.json
TIMES=$BENCH/archives-time.txt
measure() { # extra flags -> "wall cpu rss_kb" (GNU time; CPU is user + system)
    /usr/bin/time -f '%e %U %S %M' -o "$TIMES" \
        "$BIN" dir "$TREE" --quiet --format jsonl --output "$OUT" --stats "$STATS" "$@" || [[ $? == 1 ]]
    tail -1 "$TIMES" | awk '{ printf "%s %.2f %s", $1, $2 + $3, $4 }'
}

read -r flat_w flat_c flat_m <<<"$(measure --no-extract)"
read -r deep_w deep_c deep_m <<<"$(measure)"
found=$(grep -c '"path":"[^"]*planted' "$OUT" || true)
extracted=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('archive_bytes', 0))" "$STATS")
entries=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('archive_entries', 0))" "$STATS")
printf '%-32s %7s %7s %16s %18s %8s\n' "what" "wall s" "CPU s" "archive MB/CPU-s" "extracted MB/CPU-s" "RSS MB"
printf '%-32s %7s %7s %16s %18s %8s\n' "leakscan dir --no-extract" "$flat_w" "$flat_c" "$(mbps "$bytes" "$flat_c")" "-" "$((flat_m / 1024))"
printf '%-32s %7s %7s %16s %18s %8s\n' "leakscan dir (archives opened)" "$deep_w" "$deep_c" "$(mbps "$bytes" "$deep_c")" "$(mbps "$extracted" "$deep_c")" "$((deep_m / 1024))"
echo "extracted: $entries entries, $((extracted / 1000000)) MB; planted found: $found of 3"
python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['skipped']; print('skipped:', s or 'nothing')" "$STATS"
