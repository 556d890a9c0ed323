#!/usr/bin/env python3
"""Parity fixtures for uag's reference transformer (tests/test_model.cpp).

Run on a machine with torch + transformers 5.x:  python3 make_fixtures.py OUT_DIR
For each small random model it writes OUT_DIR/<name>/:
  config.json, model.safetensors (or model.safetensors.index.json + 2 shards), weights stored as bf16;
  reference.json      input ids (24), greedy continuation (32), metadata;
  reference_logits.bin float32 little-endian, row-major (56 x vocab): logits of one full forward pass over
                       input ids + greedy ids, computed by HF in float32 from the bf16 weights reloaded from
                       the folder (eager attention), so parity with uag can be tight.
Random models get all parameters (norm weights and biases included) drawn at random so that every code path
matters; seeds are searched until every greedy step has a top-1/top-2 margin >= MIN_MARGIN, so that the
greedy continuation is not decided by float rounding.
"""
import json
import os
import shutil
import traceback
import struct
import sys

N_INPUT = 24
N_GREEDY = 32
MIN_MARGIN = 2e-3


def model_specs():
    base = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                rms_norm_eps=1e-5, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
    return [
        # name, class name, config kwargs, post-processing
        ("llama", "Llama", dict(base, rope_parameters={"rope_type": "default", "rope_theta": 10000.0}), None),
        ("llama3_rope", "Llama", dict(base, rope_parameters={
            "rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 32}), None),
        ("mistral", "Mistral", dict(base, sliding_window=8, head_dim=16,
                                    rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}), None),
        ("qwen2", "Qwen2", dict(base, num_key_value_heads=1,
                                rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}), "shard2"),
        ("qwen3", "Qwen3", dict(base, head_dim=32, vocab_size=384,
                                rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}), None),
        ("llama_tied", "Llama", dict(base, vocab_size=512, tie_word_embeddings=True, num_key_value_heads=4,
                                     rope_parameters={"rope_type": "linear", "rope_theta": 10000.0,
                                                      "factor": 2.0}), None),
        # written with transformers 4.x keys: rope_theta + rope_scaling {"type": ...}
        ("llama_legacy_keys", "Llama", dict(base, rope_parameters={"rope_type": "linear", "rope_theta": 20000.0,
                                                                    "factor": 4.0}), "legacy_keys"),
    ]


def legacy_keys(cfg):
    if "rope_parameters" not in cfg:
        print("warning: no rope_parameters in saved config", sorted(cfg))
        return cfg
    rp = cfg.pop("rope_parameters")
    cfg["rope_theta"] = rp.pop("rope_theta")
    rtype = rp.pop("rope_type")
    cfg["rope_scaling"] = None if rtype == "default" else dict(rp, type=rtype)
    return cfg


def main():
    out_dir = sys.argv[1]
    rows = []
    for spec in model_specs():
        try:
            rows.append(make_one(out_dir, *spec))
        except Exception:
            traceback.print_exc()
    print("done", len(rows), "of", len(model_specs()))


def make_one(out_dir, name, cls, kwargs, post):
    import torch
    import transformers
    from safetensors.torch import save_file, load_file
    torch.set_grad_enabled(False)
    if True:
        config_cls = getattr(transformers, cls + "Config")
        model_cls = getattr(transformers, cls + "ForCausalLM")
        folder = os.path.join(out_dir, name)
        for seed in range(100):
            torch.manual_seed(1000 + seed)
            if os.path.isdir(folder):
                shutil.rmtree(folder)
            os.makedirs(folder)
            config = config_cls(**kwargs)
            model = model_cls(config).eval()
            for pname, p in model.named_parameters():
                if pname.endswith("norm.weight"):
                    p.copy_(1.0 + 0.2 * torch.randn_like(p))
                elif pname.endswith(".bias"):
                    p.copy_(0.2 * torch.randn_like(p))
                else:
                    p.copy_(0.15 * torch.randn_like(p))
            model = model.to(torch.bfloat16)
            try:
                model.save_pretrained(folder, safe_serialization=True)
            except TypeError:
                model.save_pretrained(folder)
            for f in os.listdir(folder):  # drop files save_pretrained writes that we don't use
                if f == "generation_config.json":
                    os.remove(os.path.join(folder, f))
            cfg_path = os.path.join(folder, "config.json")
            if post == "legacy_keys":
                with open(cfg_path) as f:
                    cfg = json.load(f)
                with open(cfg_path, "w") as f:
                    json.dump(legacy_keys(cfg), f, indent=2, sort_keys=True)
            if post == "shard2":
                st_path = os.path.join(folder, "model.safetensors")
                sd = load_file(st_path)
                os.remove(st_path)
                names = sorted(sd)
                half = len(names) // 2
                weight_map = {}
                total = 0
                for i, part in enumerate([names[:half], names[half:]]):
                    fname = "model-%05d-of-00002.safetensors" % (i + 1)
                    save_file({n: sd[n].contiguous() for n in part}, os.path.join(folder, fname),
                              metadata={"format": "pt"})
                    for n in part:
                        weight_map[n] = fname
                        total += sd[n].numel() * sd[n].element_size()
                with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
                    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)

            # Reference: reload from the folder in float32 (bf16 weights upcast exactly).
            ref = model_cls.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
            g = torch.Generator().manual_seed(7)
            vocab = ref.config.vocab_size
            ids = torch.randint(3, vocab, (N_INPUT,), generator=g).tolist()
            seq = list(ids)
            margin = float("inf")
            for _ in range(N_GREEDY):
                logits = ref(torch.tensor([seq])).logits[0, -1]
                top = torch.topk(logits, 2).values
                margin = min(margin, float(top[0] - top[1]))
                seq.append(int(torch.argmax(logits)))
            full = ref(torch.tensor([seq])).logits[0].float().contiguous()
            if margin >= MIN_MARGIN:
                break
        with open(os.path.join(folder, "reference_logits.bin"), "wb") as f:
            f.write(struct.pack("<%df" % full.numel(), *full.flatten().tolist()))
        meta = {
            "model_class": model_cls.__name__,
            "transformers_version": transformers.__version__,
            "torch_version": torch.__version__,
            "seed": 1000 + seed,
            "input_ids": ids,
            "greedy": seq[N_INPUT:],
            "greedy_min_margin": margin,
            "logits_file": "reference_logits.bin",
            "logits_rows": len(seq),
            "vocab_size": vocab,
            "note": "logits: HF float32 forward (eager) over input_ids + greedy, weights bf16 upcast to f32",
        }
        with open(os.path.join(folder, "reference.json"), "w") as f:
            json.dump(meta, f, indent=1)
        print(name, "seed", 1000 + seed, "margin", margin, sorted(os.listdir(folder)), flush=True)
        with open(os.path.join(folder, "config.json")) as f:
            print(f.read(), flush=True)
        return name


if __name__ == "__main__":
    main()
