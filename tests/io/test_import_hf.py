"""`precis import` of Hugging Face Llama checkpoints against transformers (the oracle).

Small random LlamaForCausalLM models, saved with save_pretrained (safetensors), are imported, and
precis's logits on a batch of 2×24 tokens must equal transformers' (eager attention) to fp32
tolerance (import_oracle.py derives it). Variants: grouped KV heads (4 heads, 2 KV) with an
untied head; a tied head with one KV head (multi-query); BF16 storage (compared against the model
whose weights are those BF16 values, so the conversion must be exact); F16 storage split into
shards by model.safetensors.index.json. Also checks the file's metadata (config, policy, import
provenance) and the --context rule, and that `precis eval`'s loader reads the result.
"""
import copy
import json
import os
import tempfile

import numpy as np
import torch
from safetensors import safe_open

from import_oracle import assert_fp32_match, llama, precis_logits, run


def check_variant(tmp, name, model, dtype=None, shard=None, context=None):
    src = os.path.join(tmp, name)
    saved = model if dtype is None else copy.deepcopy(model).to(dtype)
    kwargs = {} if shard is None else {"max_shard_size": shard}
    saved.save_pretrained(src, **kwargs)
    if dtype is not None:  # the reference holds exactly the stored (rounded) weights
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(dtype).float())
    if shard is not None:
        assert os.path.exists(os.path.join(src, "model.safetensors.index.json")), "not sharded"
        assert not os.path.exists(os.path.join(src, "model.safetensors"))
    out = os.path.join(tmp, name + ".safetensors")
    args = ["import", src, "-o", out] + ([] if context is None else ["--context", str(context)])
    print(run(*args).stdout.strip())

    rng = np.random.default_rng(len(name))
    ids = rng.integers(0, model.config.vocab_size, size=(2, 24))
    assert_fp32_match(name, precis_logits(out, ids), model, ids)

    with safe_open(out, "np") as f:
        meta = f.metadata()
    config = json.loads(meta["config"])
    c = model.config
    assert config["vocab_size"] == c.vocab_size and config["d_model"] == c.hidden_size
    assert config["n_heads"] == c.num_attention_heads
    assert config["n_kv_heads"] == c.num_key_value_heads
    assert config["ffn_hidden"] == c.intermediate_size and config["n_layers"] == c.num_hidden_layers
    assert config["tied_head"] == c.tie_word_embeddings
    assert config["context"] == (context or min(c.max_position_embeddings, 2048))
    assert json.loads(meta["policy"])["weights"] in ("none", "")
    provenance = json.loads(meta["import"])
    assert provenance["format"] == "huggingface" and provenance["architecture"] == "LlamaForCausalLM"
    assert provenance["source"] == os.path.abspath(src)
    return out


def main():
    with tempfile.TemporaryDirectory() as tmp:
        check_variant(tmp, "gqa", llama(seed=1))
        check_variant(tmp, "tied_mqa", llama(seed=2, kv_heads=1, tied=True), context=40)
        check_variant(tmp, "bf16", llama(seed=3), dtype=torch.bfloat16)
        out = check_variant(tmp, "f16_sharded", llama(seed=4, layers=2), dtype=torch.float16,
                            shard="40KB")

        # --context beyond what the model was trained for is refused.
        bad = run("import", os.path.join(tmp, "gqa"), "-o", os.path.join(tmp, "x.safetensors"),
                  "--context", "65", check=False)
        assert bad.returncode == 1 and "--context 65" in bad.stderr, bad.stderr
        assert not os.path.exists(os.path.join(tmp, "x.safetensors"))
        # The imported file is a model file `precis quantize` accepts like a trained one.
        q = os.path.join(tmp, "q.safetensors")
        run("quantize", out, "--method", "rtn", "--format", "int8", "-o", q)
        with safe_open(q, "np") as f:
            assert "import" in f.metadata(), "quantize should keep the import provenance"
    print("OK")


if __name__ == "__main__":
    main()
