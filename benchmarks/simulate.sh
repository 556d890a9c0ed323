#!/usr/bin/env bash
# The draft-length controller judged without the machine's noise (issue 14): each cell's acceptance at
# every position for every γ (`uag bench --acceptance-table`) and its step costs (the same run's trace)
# are recorded once; bin/simulate_controller then runs the controller and every static length through
# them in seconds, the same for every version of the controller.
#   benchmarks/simulate.sh tables DIR          record the cells (greedy, N prompts x TOKENS): table and costs
#   benchmarks/simulate.sh costs DIR           record the costs alone (static g1..g12 and adaptive, one run)
#   benchmarks/simulate.sh sampled DIR         record sampled cells (T = TEMPERATURE, default 0.7): table and costs
#   benchmarks/simulate.sh run DIR [NOISE] [SEEDS]   one line per cell: adaptive against the best static γ
# env: UAG (default build/bin/uag), SIM (default build/bin/simulate_controller), UAG_MATRIX_DIR,
#      PROMPTS (default benchmarks/results/matrix/s14_n16_t256/prompts, unpacked from prompts.tar.xz), N (16), TOKENS (256), CELLS (a subset),
#      TABLES (run: where a cell's table is when DIR has none: costs recorded later sit apart from it),
#      WEIGHTS (tables/costs: `uag bench --weights`, default auto), THREADS (tables/costs: `--threads`; the
#      matrix's 1, default uag's own).
# A cell's files: DIR/<cell>.table.jsonl.xz and DIR/<cell>.costs.jsonl.xz (the trace's fields the
# simulation reads); `run` decompresses them next to themselves.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,16p' "$0" >&2; exit 2; }
uag=${UAG:-build/bin/uag}; sim=${SIM:-build/bin/simulate_controller}
mdir=${UAG_MATRIX_DIR:-$HOME/.cache/uag/matrix}
prompts=${PROMPTS:-$here/results/matrix/s14_n16_t256/prompts}
n=${N:-16}; tokens=${TOKENS:-256}; weights=${WEIGHTS:-auto}
case "${THREADS-1}" in ''|*[!0-9]*|0) echo "THREADS must be a positive integer, got '${THREADS-}'" >&2; exit 2 ;; esac
threads=${THREADS:+--threads $THREADS}
case "$weights" in auto|f32|bf16|bf16-products) ;; *) echo "WEIGHTS must be auto, f32, bf16 or bf16-products, got '$weights'" >&2; exit 2 ;; esac
cells=${CELLS:-"qwen_c_500 qwen_python_500 qwen_prose_500 qwen_c_1500 bundled_c_500 bundled_prose_1500 weak_c_500 qwen_python_100 qwen_c_100 bundled_python_500 weak_prose_500 weak_python_1500 weak_c_100 qwen_prose_100 bundled_c_1500 qwen_python_1500"}
pair_args() {
  case "$1" in
    qwen) echo "--target $mdir/qwen_target" ;;
    weak) echo "--draft $mdir/weak_draft" ;;
    bundled) ;;
  esac
}
# A cell's trace (the given configurations, baseline interleaved) cut to the fields the simulation reads.
record_costs() {  # cell configs [extra bench arguments...]
  local cell=$1 configs=$2 pair dom len; shift 2
  # The default prompts are packed (tree size): unpacked beside their archive on first use.
  if [ -z "${PROMPTS:-}" ] && [ ! -d "$prompts" ]; then tar -xJf "$prompts.tar.xz" -C "$(dirname "$prompts")"; fi
  IFS=_ read -r pair dom len <<< "$cell"
  echo "== $cell" >&2
  # shellcheck disable=SC2046
  "$uag" bench $(pair_args "$pair") --prompts "$prompts/${dom}_$len.jsonl" --limit "$n" --max-new-tokens "$tokens" \
    --configs "$configs" --weights "$weights" $threads --trace "$dir/$cell.trace.jsonl" "$@" 2>/dev/null | grep -E "^(g[0-9]+|adaptive) "
  python3 "$here/cut_costs.py" "$dir/$cell.trace.jsonl" "$dir/$cell.costs.jsonl"
  # A sampled cell's table: the g12 run's accepted runs (benchmarks/sampled_table.py says why that serves).
  if [ -n "${SAMPLED_TABLE:-}" ]; then python3 "$here/sampled_table.py" "$dir/$cell.trace.jsonl" g12 "$SAMPLED_TABLE"; fi
  rm "$dir/$cell.trace.jsonl"
  xz -9 -f "$dir/$cell.costs.jsonl"
}
case "$cmd" in
  tables)
    mkdir -p "$dir"
    for cell in $cells; do
      record_costs "$cell" g1,g2,g3,g4,g5,g6,g7,g8,g9,g10,g11,g12,adaptive --acceptance-table "$dir/$cell.table.jsonl"
      xz -9 -f "$dir/$cell.table.jsonl"
    done ;;
  costs)
    # Every length the tables hold, timed: lengths a trace lacks are extrapolated, and the 151k pair's
    # best static lengths lie past g6 on some cells.
    mkdir -p "$dir"
    for cell in $cells; do record_costs "$cell" g1,g2,g3,g4,g5,g6,g7,g8,g9,g10,g11,g12,adaptive; done ;;
  sampled)
    # The same at T = TEMPERATURE (default 0.7, TLI, seed 0): `--acceptance-table` needs greedy decoding,
    # so the table is built from the trace's g12 run.
    temp=${TEMPERATURE:-0.7}
    case "$temp" in ''|*[!0-9.]*|.|*.*.*) echo "TEMPERATURE must be a positive number, got '$temp'" >&2; exit 2 ;; esac
    mkdir -p "$dir"
    for cell in $cells; do
      SAMPLED_TABLE="$dir/$cell.table.jsonl" record_costs "$cell" g1,g2,g3,g4,g5,g6,g7,g8,g9,g10,g11,g12,adaptive \
        --temperature "$temp" --mode tli --seed 0
      xz -9 -f "$dir/$cell.table.jsonl"
    done ;;
  run)
    noise=${3:-0.1}; seeds=${4:-40}
    for cell in $cells; do
      table="$dir/$cell.table"
      [ -f "$table.jsonl.xz" ] || table="${TABLES:-$dir}/$cell.table"
      for f in "$table" "$dir/$cell.costs"; do
        [ -f "$f.jsonl.xz" ] || { echo "missing $f.jsonl.xz (benchmarks/simulate.sh tables $dir)" >&2; exit 2; }
        [ -f "$f.jsonl" ] || xz -dk "$f.jsonl.xz"
      done
      # Every matrix pair drafts through a text bridge (the bundled and weak drafts' 8k tokenizer, the
      # targets' 32k or 151k): its last candidates may be open (uag sets it from the draft source).
      printf "%-20s %s\n" "$cell" "$("$sim" "$table.jsonl" "$dir/$cell.costs.jsonl" --noise "$noise" --seeds "$seeds" --open-last | tail -1)"
    done ;;
  *) echo "unknown command '$cmd' (tables, costs, sampled or run)" >&2; exit 2 ;;
esac
