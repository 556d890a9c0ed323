#!/usr/bin/env python3
"""How a step's last candidate fares against the same candidate with more drafted after it.

Reads acceptance tables (`uag bench --acceptance-table FILE`, or benchmarks/results/sim_s*/*.table.jsonl.xz)
and prints, per table and for candidate k = 1, 2, 3, 4, 6: the chance the target accepts candidate k
once candidates 1..k-1 were accepted, when the draft was asked for k candidates (k is the last) and when
it was asked for k + 1 (another follows). Over a text bridge the last candidate is often the first piece
of a word that the target writes as one longer token; with identical tokenizers the two agree.
usage: benchmarks/last_candidate.py TABLE.jsonl[.xz] ...
"""
import json
import lzma
import os
import sys


def fail(msg):
    print(f"{os.path.basename(sys.argv[0])}: {msg}", file=sys.stderr)
    sys.exit(2)


def rows(path):
    opener = lzma.open if path.endswith(".xz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    t = json.loads(line)
                    yield from zip(t["accepted"], t["proposed"])
                except (ValueError, KeyError, TypeError):
                    fail(f"{path}:{n}: not an acceptance-table line")
    except (OSError, lzma.LZMAError) as e:
        fail(f"cannot read {path}: {e}")


def main():
    if len(sys.argv) < 2:
        fail("usage: last_candidate.py TABLE.jsonl[.xz] ...")
    positions = (1, 2, 3, 4, 6)
    for path in sys.argv[1:]:
        # counts[k] = [reached as last, accepted as last, reached with one after, accepted with one after]
        counts = {k: [0, 0, 0, 0] for k in positions}
        for acc, prop in rows(path):
            if len(acc) < max(positions) + 1 or len(prop) != len(acc):
                fail(f"{path}: rows need {max(positions) + 1} lengths")
            for k in positions:
                c = counts[k]
                if prop[k - 1] >= k and acc[k - 1] >= k - 1:  # asked for k: candidate k proposed and reached
                    c[0] += 1
                    c[1] += acc[k - 1] >= k
                if prop[k] >= k + 1 and acc[k] >= k - 1:  # asked for k + 1: candidate k reached, one after it
                    c[2] += 1
                    c[3] += acc[k] >= k
        if counts[1][0] + counts[1][2] == 0:
            fail(f"{path}: no rows")
        name = os.path.basename(path).split(".table")[0]
        cells = [f"k{k} {c[1] / max(c[0], 1):.2f} / {c[3] / max(c[2], 1):.2f}" for k, c in counts.items()]
        print(f"{name:<20} last / with one after: " + "  ".join(cells))


if __name__ == "__main__":
    main()
