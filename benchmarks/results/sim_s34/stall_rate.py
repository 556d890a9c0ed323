# Share of descheduled steps in `uag bench --trace` recordings: per run and prompt, the steps (catch-ups
# aside) that took more than 1.5x (and 2x) the median step of that run and prompt.
#   usage: python3 benchmarks/results/sim_s34/stall_rate.py TRACE.jsonl[.xz]...
import collections
import json
import lzma
import statistics
import sys


def fail(message):
    print(f"stall_rate.py: {message}", file=sys.stderr)
    sys.exit(2)


if len(sys.argv) < 2:
    fail("usage: stall_rate.py TRACE.jsonl[.xz]...")
for path in sys.argv[1:]:
    opener = lzma.open if path.endswith('.xz') else open
    steps = collections.defaultdict(list)
    try:
        with opener(path, 'rt') as f:
            for n, line in enumerate(f, 1):
                try:
                    j = json.loads(line)
                    if not j.get('catch_up'):
                        steps[(j['run'], j['prompt'])].append(float(j['step_s']))
                except (ValueError, KeyError, TypeError, AttributeError):
                    fail(f"{path}:{n}: not a `uag bench --trace` step")
    except (OSError, EOFError, lzma.LZMAError) as e:
        fail(f"cannot read {path}: {e}")
    total = over15 = over2 = 0
    for times in steps.values():
        if len(times) < 10:
            continue
        m = statistics.median(times)
        total += len(times)
        over15 += sum(1 for t in times if t > 1.5 * m)
        over2 += sum(1 for t in times if t > 2 * m)
    if total == 0:
        fail(f"{path}: no run of a prompt with 10 or more steps")
    print(f"{path}: {total} steps, > 1.5x median {over15 / total:.3f}, > 2x {over2 / total:.3f}")
