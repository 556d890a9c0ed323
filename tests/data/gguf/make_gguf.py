#!/usr/bin/env python3
"""Writes a GGUF file from a Hugging Face model folder (Llama / Mistral / Qwen2 / Qwen3 safetensors, as the
repo's test models and bundled pair are), for uag's llama.cpp adapter tests and benchmarks.

    make_gguf.py GGUF_PY_DIR MODEL_DIR OUT.gguf [--dtype f32|f16|bf16]

GGUF_PY_DIR is llama.cpp's gguf-py (in the source that cmake/fetch_llama_cpp.sh clones: <prefix>/src/gguf-py).
Needs only numpy (Debian's python3-numpy); llama.cpp's convert_hf_to_gguf.py needs torch and transformers,
which this machine does not have, so this script does the small part of it these models need:
  - tensors renamed to llama.cpp's names; q/k rows permuted for the "llama" architecture (HF rotates halves,
    llama.cpp's llama rope rotates adjacent pairs), as convert_hf_to_gguf.py does; 1-D tensors stay F32;
  - the tokenizer from tokenizer.json: a BPE with byte fallback and a Prepend("▁") normalizer (Mistral/Llama-2
    style) becomes a SentencePiece ("llama") vocabulary whose scores rank tokens by the merge that makes them;
    a byte-level BPE becomes a "gpt2" vocabulary with its merges; a folder without tokenizer.json (the random
    test models) gets 256 byte-level tokens plus placeholders, enough for llama.cpp to load it.
Recipe and versions: gguf-py from the llama.cpp release of node-llama-cpp 3.22.1, numpy 1.24 (Debian 12).
Generated at test time into the build folder (tests/CMakeLists: make_gguf fixture); nothing here is committed.
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np


def read_safetensors(folder: Path):
    files = sorted(folder.glob("model*.safetensors"))
    if not files:
        raise SystemExit(f"no safetensors in {folder}")
    tensors = {}
    for f in files:
        data = f.read_bytes()
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + n])
        base = 8 + n
        for name, info in header.items():
            if name == "__metadata__":
                continue
            b, e = info["data_offsets"]
            raw = data[base + b:base + e]
            shape = info["shape"]
            if info["dtype"] == "BF16":
                bits = np.frombuffer(raw, dtype=np.uint16).reshape(shape)
            elif info["dtype"] == "F32":
                bits = np.frombuffer(raw, dtype=np.float32).reshape(shape)
            elif info["dtype"] == "F16":
                bits = np.frombuffer(raw, dtype=np.float16).astype(np.float32).reshape(shape)
            else:
                raise SystemExit(f"unsupported dtype {info['dtype']} for {name}")
            tensors[name] = bits
    return tensors


def to_f32(t):
    if t.dtype == np.uint16:  # bf16 bits
        return (t.astype(np.uint32) << 16).view(np.float32)
    return t.astype(np.float32)


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def permute(w, n_head):
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


# llama.cpp names the pre-tokenizer regexes it knows; these are the two the repo's byte-level models use.
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
               r"\s*[\r\n]+|\s+(?!\S)|\s+")


def byte_level_pre(tok: dict) -> str:
    pre = tok.get("pre_tokenizer") or {}
    for p in [pre] + list(pre.get("pretokenizers", [])):
        if p.get("type") == "Split" and p.get("pattern", {}).get("Regex") == QWEN2_SPLIT:
            return "qwen2"
    return "gpt-2"


def write_tokenizer(gguf, w, folder: Path, cfg: dict, n_vocab: int):
    T = gguf.TokenType
    tj = folder / "tokenizer.json"
    if not tj.exists():
        b2u = bytes_to_unicode()
        tokens = [b2u[b] for b in range(256)] + [f"<|extra_{i}|>" for i in range(256, n_vocab)]
        types = [T.NORMAL] * 256 + [T.USER_DEFINED] * (n_vocab - 256)
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("default")
        w.add_token_list(tokens)
        w.add_token_types(types)
        w.add_token_merges(["! !"])  # llama.cpp requires the key; gguf-py drops empty arrays
        w.add_bos_token_id(cfg.get("bos_token_id", 1))
        w.add_eos_token_id(cfg.get("eos_token_id", 2))
        w.add_add_bos_token(False)
        return
    tok = json.loads(tj.read_text())
    model = tok["model"]
    vocab = model["vocab"]
    added = {a["id"]: a for a in tok.get("added_tokens", [])}
    named = max(max(vocab.values()), max(added, default=-1)) + 1
    # Rows past the tokenizer's last id (Qwen pads 151,669 ids to 151,936 rows) become unused tokens:
    # llama.cpp wants one token per embedding row.
    size = max(named, n_vocab)
    tokens = [f"[PAD{i}]" for i in range(size)]
    for s, i in vocab.items():
        tokens[i] = s
    for i, a in added.items():
        tokens[i] = a["content"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    post = json.dumps(tok.get("post_processor"))
    first_special = None
    single = (tok.get("post_processor") or {}).get("single") or []
    if single and "SpecialToken" in single[0]:
        first_special = single[0]["SpecialToken"]["id"]
    ids = {t: i for i, t in enumerate(tokens)}
    bos = ids.get(first_special) if first_special else cfg.get("bos_token_id")
    eos = cfg.get("eos_token_id")
    types = []
    if model.get("byte_fallback"):
        # SentencePiece-style: scores rank merged tokens by their merge (earlier merge = higher score).
        scores = [-1e9] * size
        for rank, m in enumerate(merges):
            a, b = m.split(" ", 1)
            t = ids.get(a + b)
            if t is not None and scores[t] == -1e9:
                scores[t] = -float(rank)
        for i, t in enumerate(tokens):
            if len(t) == 1 and scores[i] == -1e9:
                scores[i] = 0.0
        for i, t in enumerate(tokens):
            if i in added and added[i].get("special"):
                types.append(T.UNKNOWN if t == model.get("unk_token") else T.CONTROL)
            elif len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
                types.append(T.BYTE)
            elif i in added:
                types.append(T.USER_DEFINED)
            else:
                types.append(T.NORMAL)
        w.add_tokenizer_model("llama")
        w.add_tokenizer_pre("default")
        w.add_token_list(tokens)
        w.add_token_scores(scores)
        w.add_token_types(types)
        if model.get("unk_token") in ids:
            w.add_unk_token_id(ids[model["unk_token"]])
        w.add_add_space_prefix(True)
    else:
        for i, t in enumerate(tokens):
            types.append(T.CONTROL if i in added and added[i].get("special") else
                         T.USER_DEFINED if i in added else T.UNUSED if i >= named else T.NORMAL)
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre(byte_level_pre(tok))
        w.add_token_list(tokens)
        w.add_token_types(types)
        w.add_token_merges(merges)
    if bos is not None:
        w.add_bos_token_id(bos)
    if eos is not None:
        w.add_eos_token_id(eos)
    w.add_add_bos_token(first_special is not None)
    w.add_add_eos_token(False)
    del post


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    sys.path.insert(0, sys.argv[1])
    import gguf

    folder, out = Path(sys.argv[2]), Path(sys.argv[3])
    dtype = "f32"
    if "--dtype" in sys.argv:
        dtype = sys.argv[sys.argv.index("--dtype") + 1]
    cfg = json.loads((folder / "config.json").read_text())
    mtype = cfg["model_type"]
    arch = {"llama": "llama", "mistral": "llama", "qwen2": "qwen2", "qwen3": "qwen3"}.get(mtype)
    if arch is None:
        raise SystemExit(f"unsupported model_type {mtype}")
    n_head, n_kv = cfg["num_attention_heads"], cfg.get("num_key_value_heads", cfg["num_attention_heads"])
    hidden = cfg["hidden_size"]
    head_dim = cfg.get("head_dim") or hidden // n_head
    rope = cfg.get("rope_parameters") or {}
    theta = rope.get("rope_theta", cfg.get("rope_theta", 10000.0))
    rope_type = rope.get("rope_type", "default")

    w = gguf.GGUFWriter(str(out), arch)
    w.add_name(folder.name)
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(hidden)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(float(theta))
    if rope_type == "linear":
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(float(rope["factor"]))
    elif rope_type != "default":
        raise SystemExit(f"rope_type {rope_type} not handled")
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_vocab_size(cfg["vocab_size"])
    w.add_file_type({"f32": 0, "f16": 1, "bf16": 32}[dtype])
    write_tokenizer(gguf, w, folder, cfg, cfg["vocab_size"])

    names = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    per_layer = {
        "input_layernorm.weight": "attn_norm.weight",
        "post_attention_layernorm.weight": "ffn_norm.weight",
        "self_attn.q_proj.weight": "attn_q.weight", "self_attn.q_proj.bias": "attn_q.bias",
        "self_attn.k_proj.weight": "attn_k.weight", "self_attn.k_proj.bias": "attn_k.bias",
        "self_attn.v_proj.weight": "attn_v.weight", "self_attn.v_proj.bias": "attn_v.bias",
        "self_attn.o_proj.weight": "attn_output.weight",
        "self_attn.q_norm.weight": "attn_q_norm.weight", "self_attn.k_norm.weight": "attn_k_norm.weight",
        "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
        "mlp.down_proj.weight": "ffn_down.weight",
    }
    tensors = read_safetensors(folder)
    for name, t in tensors.items():
        if name in names:
            gname = names[name]
        elif name.startswith("model.layers."):
            i, rest = name[len("model.layers."):].split(".", 1)
            if rest not in per_layer:
                raise SystemExit(f"unexpected tensor {name}")
            gname = f"blk.{i}.{per_layer[rest]}"
        else:
            raise SystemExit(f"unexpected tensor {name}")
        if name == "lm_head.weight" and cfg.get("tie_word_embeddings"):
            continue
        permute_heads = None
        if arch == "llama" and (name.endswith("q_proj.weight") or name.endswith("q_proj.bias")):
            permute_heads = n_head
        if arch == "llama" and (name.endswith("k_proj.weight") or name.endswith("k_proj.bias")):
            permute_heads = n_kv
        if t.ndim == 1 or dtype == "f32" or permute_heads is not None and t.ndim == 1:
            a = to_f32(t)
            if permute_heads:
                a = permute(a, permute_heads)
            w.add_tensor(gname, np.ascontiguousarray(a))
        elif dtype == "f16":
            a = to_f32(t)
            if permute_heads:
                a = permute(a, permute_heads)
            w.add_tensor(gname, np.ascontiguousarray(a.astype(np.float16)))
        else:  # bf16: the source bits unchanged
            bits = t if t.dtype == np.uint16 else (to_f32(t).view(np.uint32) >> 16).astype(np.uint16)
            if permute_heads:
                bits = permute(bits, permute_heads)
            bits = np.ascontiguousarray(bits)
            w.add_tensor(gname, bits.view(np.uint8),  # shape derived from the byte shape
                         raw_dtype=gguf.GGMLQuantizationType.BF16)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
