#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), one after another,
# at the lowest CPU priority, seeding the corpora from the rule packs.
# Logs (with libFuzzer's final stats) go to fuzz/logs/TARGET.log; crashes
# to fuzz/artifacts/TARGET/. cargo-fuzz needs nightly flags: the stable
# toolchain allows them with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(matcher rules_toml validators ci_event)
export RUSTC_BOOTSTRAP=1
mkdir -p logs corpus/matcher corpus/rules_toml corpus/validators corpus/ci_event
# Seeds: the packs themselves (TOML), and their lines (scanner input).
cp ../rules/packs/*.toml corpus/rules_toml/
cp ../.leakscan.toml corpus/rules_toml/config.toml
i=0
while IFS= read -r line; do
  printf '%s\n' "$line" > "corpus/matcher/seed-$i"
  # validators: byte 0 picks the validator, bytes 1-2 the span.
  for v in 0 1 2; do printf "\x0$v\x00\xff%s" "$line" > "corpus/validators/seed-$i-$v"; done
  i=$((i + 1))
done < <(grep -h -E "^(examples|counterexamples)" ../rules/packs/*.toml | cut -d= -f2-)
# ci_event: byte 0 picks the event name (0 push, 1 pull_request, 3 merge_group).
z=0000000000000000000000000000000000000000
a=0123456789abcdef0123456789abcdef01234567
b=89abcdef0123456789abcdef0123456789abcdef
printf '\x00{"before":"%s","after":"%s","ref":"refs/heads/main","repository":{"default_branch":"main"}}' $a $b > corpus/ci_event/push
printf '\x00{"before":"%s","after":"%s","ref":"refs/heads/new","deleted":false,"repository":{"default_branch":"main"}}' $z $b > corpus/ci_event/push-new
printf '\x01{"pull_request":{"base":{"sha":"%s"},"head":{"sha":"%s"}}}' $a $b > corpus/ci_event/pr
printf '\x03{"merge_group":{"base_sha":"%s","head_sha":"%s"}}' $a $b > corpus/ci_event/merge-group
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${secs}s"
  nice -n 19 cargo fuzz run -s none "$t" "corpus/$t" -- \
    -max_total_time="$secs" -print_final_stats=1 -max_len=65536 -timeout=20 \
    > "logs/$t.log" 2>&1 || echo "$t: libFuzzer exited $? (see fuzz/logs/$t.log)"
  grep -E "^(Done|stat::|#[0-9]+ *DONE)" "logs/$t.log" || true
done
