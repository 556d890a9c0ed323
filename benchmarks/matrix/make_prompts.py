#!/usr/bin/env python3
"""Writes the prompt sets of benchmarks/matrix.sh: 3 domains x 3 lengths, N prompts each, from files on
this machine that no matrix model was trained on (the models saw only Python, see
examples/models/train/README.md):
  python : Debian packages' modules under /usr/lib/python3/dist-packages (the models' own domain)
  c      : glibc and other C headers under /usr/include (another language)
  prose  : licence texts under /usr/share/common-licenses (English prose)
A prompt is the start of one file, cut at a line end after about `chars` characters (~3.3 characters
per target token: ~100 / 500 / 1,500 tokens). Files are taken in sha256(path) order, deterministic on
one machine image. With UAG (the uag binary) and UAG_TOKENIZERS (tokenizer.json paths, space-separated) set,
as benchmarks/matrix.sh does, a prompt that encodes to more than MAX_PROMPT_TOKENS (1,900: room for 128 new
tokens in 2,048 positions) under any of them is skipped for the next file.
Usage: make_prompts.py OUT_DIR [N]"""
import hashlib
import json
import os
import subprocess
import sys

MAX_PROMPT_TOKENS = 1900

LENGTHS = {"100": 330, "500": 1650, "1500": 4900}
# OpenSSL's headers (long upper-case macro names) run to ~2.2 characters per bundled-target token: their
# long prompts are cut shorter so that they stay near 1,500 tokens (within the targets' 2,048 positions).
CHARS = {("c", "1500"): 3300}
ROOTS = {"python": ("/usr/lib/python3/dist-packages", (".py",)),
         "c": ("/usr/include", (".h",)),
         "prose": ("/usr/share/common-licenses", None)}


def candidates(root, exts):
    out = []
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if os.path.islink(p) or (exts and not f.endswith(exts)) or "/test" in p:
                continue
            try:
                t = open(p, "rb").read(200_000).decode("ascii")
            except (UnicodeDecodeError, OSError):
                continue
            if "\t" in t[:8000] or "\r" in t:
                continue
            head = t[:6000]  # text, not data tables: escape-heavy files run to ~1 char per token
            if head.count("\\") > 0.01 * len(head) or sum(ch.isalpha() or ch == " " for ch in head) < 0.6 * len(head):
                continue
            out.append((hashlib.sha256(p.encode()).hexdigest(), p, t))
    return sorted(out)


def cut(text, n):
    head = text[:n]
    i = head.rfind("\n")
    return head[: i + 1] if i > n // 2 else head


def token_counts(texts):
    """The most tokens each text encodes to under the matrix's tokenizers (0 each when none are given)."""
    uag, toks = os.environ.get("UAG"), os.environ.get("UAG_TOKENIZERS", "").split()
    counts = [0] * len(texts)
    if not uag or not toks:
        return counts
    lines = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    for tok in toks:
        out = subprocess.run([uag, "tokenize", "--tokenizer", tok, "--add-special-tokens"], input=lines,
                             capture_output=True, text=True, check=True).stdout.splitlines()
        counts = [max(c, len(json.loads(o)["ids"])) for c, o in zip(counts, out)]
    return counts


def main():
    out_dir, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 4
    os.makedirs(out_dir, exist_ok=True)
    for dom, (root, exts) in ROOTS.items():
        files = candidates(root, exts)
        for name, chars in LENGTHS.items():
            chars = CHARS.get((dom, name), chars)
            # Long prompts must fit the targets' 2,048 positions: no hex tables (~2 characters per token).
            rows = [{"prompt": cut(t, chars), "file": p} for _, p, t in files
                    if len(t) >= 1.2 * chars and (name != "1500" or t[:chars].count("0x") < 0.005 * chars)][:3 * n]
            rows = [r for r, c in zip(rows, token_counts([r["prompt"] for r in rows])) if c <= MAX_PROMPT_TOKENS][:n]
            with open(os.path.join(out_dir, f"{dom}_{name}.jsonl"), "w") as f:
                for r in rows:
                    f.write(json.dumps(r) + "\n")
            print(f"{dom}_{name}: {len(rows)} prompts, {sum(len(r['prompt']) for r in rows) // max(1, len(rows))} chars each "
                  f"({', '.join(os.path.basename(r['file']) for r in rows)})")


if __name__ == "__main__":
    main()
