#!/bin/bash
# A fresh process's first generation while another process takes a core for a moment (what a user's first
# run meets on a busy laptop or right after a build): `uag generate` on the README's demo prompt, a busy
# loop of 0.05-0.4 s (uniform) started with it, binaries alternated per trial (same burst for each).
# Prints one line per run (trial, burst seconds, binary's file name, tokens/s, tokens per target pass), then per
# binary: runs, median tokens/s, runs under 2 tokens per target pass (the bundled pair makes 3.0-3.4),
# fewest tokens per pass.
#   usage: benchmarks/first_run_burst.sh TRIALS UAG [UAG...]
#   env: PROMPT (from the repository root; default examples/prompts/demo.txt), MAX_NEW_TOKENS (128), SEED
#   (of the burst lengths; default 1)
set -euo pipefail
[ $# -ge 2 ] && [[ "$1" =~ ^[1-9][0-9]*$ ]] || {
  echo "usage: benchmarks/first_run_burst.sh TRIALS UAG [UAG...] (TRIALS a positive integer)" >&2; exit 2; }
trials=$1; shift
bins=()
for b in "$@"; do
  [ -x "$b" ] && [ -f "$b" ] || { echo "first_run_burst.sh: $b is not an executable" >&2; exit 2; }
  bins+=("$(realpath "$b")")
done
cd "$(dirname "$0")/.."
prompt=${PROMPT:-examples/prompts/demo.txt}
[ -f "$prompt" ] || { echo "first_run_burst.sh: missing prompt file $prompt" >&2; exit 2; }
RANDOM=${SEED:-1}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for i in $(seq 1 "$trials"); do
  burst=$(printf '0.%02d' $((5 + RANDOM % 36)))  # 0.05-0.40 s
  for b in "${bins[@]}"; do
    (timeout "$burst" sh -c 'while :; do :; done' &)
    line=$("$b" generate --prompt-file "$prompt" --max-new-tokens "${MAX_NEW_TOKENS:-128}" 2>&1 >/dev/null | tail -1)
    # "[uag] 128 tokens, 1032.6 tokens/s, acceptance 0.69, 3.20 tokens/target pass, stop: …"
    tps=$(sed -E 's/.* ([0-9.]+) tokens\/s,.*/\1/' <<<"$line")
    tpp=$(sed -E 's/.* ([0-9.]+) tokens\/target pass.*/\1/' <<<"$line")
    echo "$i $burst $(basename "$b") $tps $tpp" | tee -a "$out"
    sleep 0.6  # the burst is over before the next run
  done
done
python3 - "$out" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    _, _, b, tps, tpp = line.split()
    runs.setdefault(b, []).append((float(tps), float(tpp)))
for b, r in runs.items():
    print(f"{b}: {len(r)} runs, median {statistics.median(t for t, _ in r):.0f} tokens/s, "
          f"{sum(p < 2 for _, p in r)} under 2 tokens per target pass, fewest {min(p for _, p in r):.2f}")
EOF
