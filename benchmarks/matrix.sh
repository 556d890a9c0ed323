#!/usr/bin/env bash
# The evaluation matrix of issue 14: pairs x prompt domains x prompt lengths, greedy (every cell) and
# T = 0.7 (the ~500-token prompts), each cell one `uag bench` run (baseline and configurations
# interleaved per prompt), then one table (benchmarks/matrix/summarize.py).
#   pairs:   bundled (bundled target + draft), weak_draft (bundled target + a 200-step draft),
#            qwen_target (a 151k-vocabulary target + the bundled draft); the two matrix models are rebuilt
#            by examples/models/train/make_matrix_models.sh into ~/.cache/uag/matrix.
#   domains: python, c, prose; lengths ~100 / 500 / 1,500 target tokens (benchmarks/matrix/make_prompts.py).
# usage: benchmarks/matrix.sh [OUT_DIR]   env: UAG (the uag binary; default build/bin/uag),
#        UAG_MATRIX_DIR, N (prompts per cell, 4), TOKENS (new tokens, 64), THREADS (target threads, 1: on a loaded 2-core machine two OpenMP threads stall each other),
#        PAIRS, DOMAINS, LENGTHS, SAMPLED_LENGTHS (subsets, space-separated),
#        CONFIGS (uag bench --configs; default g1,g2,g4,g6,adaptive: with bfloat16 products the bundled
#        and 151k pairs pay most at γ = 5-7, which g1-g4 missed, and the weak pair at γ = 1-2; runs before
#        session 28 used g1,g2,g3,g4,adaptive; NAME:hold twins are compared per cell),
#        SAMPLED_CONFIGS (for the T = 0.7 cells; default CONFIGS; NAME:slem twins run SLEM beside TLI),
#        MODE (T = 0.7 verification: tli, the default, or slem: every configuration then samples the
#        baseline's own text, same seed and same text, so the cells compare configurations pairwise);
#        SEED (uag bench --seed, default 0: at T = 0.7 each configuration samples its own text, the same
#        one in every run with the same seed, so one seed's best static length is a lucky draw);
#        SEEDS (e.g. "0 1 2 3", default SEED: two or more run every T = 0.7 cell once per seed into
#        OUT_DIR/seed<S>/json and add held_out.py's table, which pools them, to matrix.md);
#        WEIGHTS (uag bench --weights for both models: auto, the default, f32, bf16 or bf16-products);
#        REPEATS (uag bench --repeats, default 1: each prompt runs that many times, baseline and
#        configurations again each time, so one neighbour's burst weighs 1/REPEATS in a prompt's ratios);
#        the table needs a static gN and adaptive among the configurations
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/results/matrix}
uag=${UAG:-build/bin/uag}
mdir=${UAG_MATRIX_DIR:-$HOME/.cache/uag/matrix}
n=${N:-4}; tokens=${TOKENS:-64}; threads=${THREADS:-1}
pairs=${PAIRS:-bundled weak_draft qwen_target}
domains=${DOMAINS:-python c prose}
lengths=${LENGTHS-100 500 1500}  # set empty for sampled cells only
sampled=${SAMPLED_LENGTHS-500}  # set empty for greedy only
configs=${CONFIGS:-g1,g2,g4,g6,adaptive}
sampled_configs=${SAMPLED_CONFIGS:-$configs}
mode=${MODE:-tli}
seed=${SEED:-0}
seeds=${SEEDS:-$seed}
weights=${WEIGHTS:-auto}
repeats=${REPEATS:-1}
case "$mode" in tli|slem) ;; *) echo "MODE must be tli or slem, got '$mode'" >&2; exit 2 ;; esac
case "$weights" in auto|f32|bf16|bf16-products) ;; *) echo "WEIGHTS must be auto, f32, bf16 or bf16-products, got '$weights'" >&2; exit 2 ;; esac
# Checked here: a seed (or repeat count) uag bench refused would only leave each cell's .err file behind.
case "$repeats" in ''|*[!0-9]*|0) echo "REPEATS must be a positive integer, got '$repeats'" >&2; exit 2 ;; esac
case "$seed" in ''|*[!0-9]*) echo "SEED must be a non-negative integer, got '$seed'" >&2; exit 2 ;; esac
for s in $seeds; do
  case "$s" in *[!0-9]*) echo "SEEDS must be non-negative integers, got '$s' in '$seeds'" >&2; exit 2 ;; esac
done
[ -n "${seeds// /}" ] || { echo "SEEDS must hold at least one seed" >&2; exit 2; }
dup=$(tr -s ' ' '\n' <<< "$seeds" | sed '/^$/d' | sort | uniq -d | head -1)
[ -z "$dup" ] || { echo "SEEDS repeats seed $dup: a seed's run would be pooled twice" >&2; exit 2; }
# shellcheck disable=SC2086
set -- $seeds; pooled=$(( $# > 1 ))
mkdir -p "$out/json"
for p in weak_draft qwen_target; do
  case " $pairs " in *" $p "*) [ -f "$mdir/$p/model.safetensors" ] || {
    echo "missing $mdir/$p: run examples/models/train/make_matrix_models.sh (see its header)" >&2; exit 2; } ;; esac
done
# Prompts that would not fit 2,048 positions with the new tokens under either target tokenizer are skipped.
# Without the matrix models (a run of the bundled pair alone) only the bundled target's tokenizer counts,
# and a long prompt that the 151k one would reject may stay: such a run's prompt set may differ.
toks="$(dirname "$uag")/../models/target/tokenizer.json"
if [ -f "$mdir/qwen_target/tokenizer.json" ]; then toks="$toks $mdir/qwen_target/tokenizer.json"
else echo "note: no $mdir/qwen_target/tokenizer.json: prompts are sized by the bundled target's tokenizer only" >&2; fi
UAG="$uag" UAG_TOKENIZERS="$toks" python3 "$here/matrix/make_prompts.py" "$out/prompts" "$n" > "$out/prompts.txt"
pair_args() {
  case "$1" in
    bundled) ;;
    weak_draft) echo "--draft $mdir/weak_draft" ;;
    qwen_target) echo "--target $mdir/qwen_target" ;;
  esac
}
run_cell() {  # pair domain length temperature configs seed json_dir
  local tag="$1_$2_$3_t$4" json=$7 log
  log="$json/$tag.txt"
  echo "== $tag  (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee "$log"
  # shellcheck disable=SC2046
  "$uag" bench $(pair_args "$1") --prompts "$out/prompts/$2_$3.jsonl" --limit "$n" --max-new-tokens "$tokens" \
    --temperature "$4" $([ "$4" = 0 ] || echo "--mode $mode") --configs "$5" --seed "$6" --threads "$threads" --weights "$weights" --repeats "$repeats" --json "$json/$tag.json" \
    2>"$json/$tag.err" | tee -a "$log" | grep -E "^(baseline|adaptive|forward)" || true
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$log"
  # A good run writes only its progress bar to stderr: keep the file when anything else is in it.
  # (A process substitution, not a pipe: under pipefail grep's early exit would fail the pipe.)
  grep -qvE '^(\[[= ]*\] [0-9]+/[0-9]+ runs)?$' < <(tr '\r' '\n' < "$json/$tag.err") || rm -f "$json/$tag.err"
}
for pair in $pairs; do
  for dom in $domains; do
    for len in $lengths; do run_cell "$pair" "$dom" "$len" 0 "$configs" "$seed" "$out/json"; done
    for len in $sampled; do
      for s in $seeds; do
        if [ "$pooled" = 1 ]; then mkdir -p "$out/seed$s/json"; dir="$out/seed$s/json"; else dir="$out/json"; fi
        run_cell "$pair" "$dom" "$len" 0.7 "$sampled_configs" "$s" "$dir"
      done
    done
  done
done
if [ "$pooled" = 0 ] || [ -z "${sampled// /}" ]; then
  python3 "$here/matrix/summarize.py" "$out/json" | tee "$out/matrix.md"
  exit 0
fi
{
  if [ -n "${lengths// /}" ]; then python3 "$here/matrix/summarize.py" "$out/json"; echo; fi
  for s in $seeds; do echo "T = 0.7, seed $s:"; echo; python3 "$here/matrix/summarize.py" "$out/seed$s/json"; echo; done
  echo "T = 0.7, pooled over seeds $seeds (benchmarks/matrix/held_out.py):"; echo
  # shellcheck disable=SC2046
  python3 "$here/matrix/held_out.py" $(for s in $seeds; do echo "$out/seed$s"; done)
} | tee "$out/matrix.md"
