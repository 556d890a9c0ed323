#!/usr/bin/env bash
# A target behind llama.cpp's RPC backend, on loopback: `uag bench` (target-only vs assisted, interleaved per
# prompt) with the GGUF target local, behind 1 rpc-server and split over 2, the three placements
# alternating round by round in one run. Starts the servers, runs, stops them (also on error or Ctrl-C).
#
#   benchmarks/rpc_loopback.sh [OUT_DIR] [N_PROMPTS] [N_TOKENS] [ROUNDS]
#
# Needs a build with -DUAG_WITH_LLAMA_CPP=ON (BUILD=build-llama: bin/uag, the GGUF fixtures of
# `ctest -R make_gguf_fixtures` in tests/gguf, rpc-server from CMakeCache's UAG_RPC_SERVER).
# Target: the bundled target as F16 GGUF (target-f16.gguf); draft: the bundled safetensors draft (local).
# Everything on 1 thread: uag's target (local placement), each rpc-server (-t 1), the draft.
# summary.txt: per placement the median over rounds of baseline and assisted tokens/s, the speedup (geomean
# of per-prompt ratios, as uag bench prints it), tokens per target pass, and the time of one target pass
# (decode seconds per baseline token, and the one-token forward `uag bench` times) with what RPC adds to it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-benchmarks/results/rpc}
n_prompts=${2:-10}
n_tokens=${3:-64}
rounds=${4:-3}
build=${BUILD:-build-llama}
configs=${CONFIGS:-g3,adaptive}
prompts=${PROMPTS:-examples/prompts/readme.jsonl}
uag=$build/bin/uag
target=$build/tests/gguf/target-f16.gguf
rpc_server=$(sed -n 's/^UAG_RPC_SERVER:FILEPATH=//p' "$build/CMakeCache.txt")
[[ -x "$uag" ]] || { echo "missing $uag (cmake --build $build --target uag_cli)" >&2; exit 1; }
[[ -f "$target" ]] || { echo "missing $target (ctest --test-dir $build -R make_gguf_fixtures)" >&2; exit 1; }
[[ -x "$rpc_server" ]] || { echo "no rpc-server in $build/CMakeCache.txt (UAG_RPC_SERVER)" >&2; exit 1; }
mkdir -p "$out/logs"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
stop_servers() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=(); }
trap stop_servers EXIT INT TERM
ports=()
for i in 0 1 2; do
  port=$(free_port)
  "$rpc_server" -H 127.0.0.1 -p "$port" -t 1 >"$out/logs/rpc-server-$i.log" 2>&1 &
  pids+=($!)
  ports+=("$port")
done
for port in "${ports[@]}"; do  # listening within 20 s, or give up
  for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
done
# Server 0 alone holds the whole target; servers 1 and 2 hold half each.
declare -A rpc_flags=(
  [local]=""
  [rpc1]="--rpc 127.0.0.1:${ports[0]} --gpu-layers all"
  [rpc2]="--rpc 127.0.0.1:${ports[1]},127.0.0.1:${ports[2]} --gpu-layers all"
)
{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git rev-parse --short HEAD)"
  echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), shared with other sessions; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "target: $target ($(du -m "$target" | cut -f1) MiB); draft: bundled safetensors draft; $n_prompts prompts from $prompts x $n_tokens tokens, greedy, 1 thread everywhere; configs $configs; $rounds rounds"
  echo "rpc-server: $rpc_server on 127.0.0.1 ports ${ports[*]}"
} >"$out/setup.txt"
order=(local rpc1 rpc2)
for r in $(seq 1 "$rounds"); do
  for k in 0 1 2; do
    p=${order[$(((k + r) % 3))]}  # rotate the order per round
    cmd="$uag bench --target $target --prompts $prompts --limit $n_prompts --max-new-tokens $n_tokens --configs $configs --threads 1 --draft-threads 1 ${rpc_flags[$p]} --json $out/$p-round$r.json"
    echo "$cmd" >"$out/$p-round$r.txt"
    echo "[round $r] $p" >&2
    $cmd >>"$out/$p-round$r.txt" 2>"$out/logs/$p-round$r.err"
  done
done
stop_servers
python3 - "$out" "$rounds" "$configs" <<'EOF' | tee "$out/summary.txt"
import json, statistics, sys
out, rounds, configs = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
med = statistics.median
rows = {}
for p in ("local", "rpc1", "rpc2"):
    runs = [json.load(open(f"{out}/{p}-round{r}.json")) for r in range(1, rounds + 1)]
    rows[p] = {
        "base": med(j["baseline"]["tokens_per_s"] for j in runs),
        "fwd_ms": med(1e3 * j["target_forward_s"] for j in runs),
        "identical": all(j["identical_outputs"] for j in runs),
        "cfg": {c["name"]: (med(x["speedup"] for x in [next(y for y in j["configs"] if y["name"] == c["name"]) for j in runs]),
                            med(next(y for y in j["configs"] if y["name"] == c["name"])["tokens_per_s"] for j in runs),
                            med(next(y for y in j["configs"] if y["name"] == c["name"])["tokens_per_step"] for j in runs))
                for c in runs[0]["configs"]},
    }
print(f"median over {rounds} rounds; speedup = geomean over prompts of assisted / target-only decode tokens/s, same run")
print(f"{'placement':10} {'target-only':>12} {'pass ms':>8} {'+RPC ms':>8} {'1-tok fwd':>10} {'+RPC ms':>8}  " +
      "  ".join(f"{c + ' tok/s':>12} {'speedup':>8} {'tok/pass':>8}" for c in configs) + "  identical")
loc = rows["local"]
for p, r in rows.items():
    pass_ms = 1e3 / r["base"]
    add = pass_ms - 1e3 / loc["base"]
    add_fwd = r["fwd_ms"] - loc["fwd_ms"]
    cells = "  ".join(f"{r['cfg'][c][1]:12.1f} {r['cfg'][c][0]:7.2f}x {r['cfg'][c][2]:8.2f}" for c in configs)
    print(f"{p:10} {r['base']:9.1f}/s {pass_ms:8.2f} {add:8.2f} {r['fwd_ms']:8.2f}ms {add_fwd:8.2f}  {cells}  {'yes' if r['identical'] else 'NO'}")
EOF
