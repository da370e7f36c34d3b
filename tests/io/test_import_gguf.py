"""`precis import` of llama-architecture GGUF files written by gguf-py (llama.cpp's own Python
package) from small random transformers models, against transformers' logits.

The files are written here the way llama.cpp's HF converter writes them: llama.* hyperparameter
keys, llama.cpp tensor names, ggml dims (fastest first), and q/k rows of each head permuted from
HF's rotate-half order to ggml's interleaved RoPE pairs (k with the KV head count). Importing must
undo all of it: precis's logits must equal transformers' on the original model to the fp32
tolerance of import_oracle.py. A wrong permutation (or none) changes the logits by O(1), so this
pins it. Variants: F32, grouped KV heads, untied; tied (no output.weight) with F16 norms kept
F32 and F16 matrices; Q8_0 and Q4_1 matrices, where the reference model holds gguf's own
dequantization of the stored blocks (quantizing permuted rows and un-permuting commute because
blocks run along rows), so the comparison stays at fp32 tolerance.
"""
import json
import os
import tempfile

import gguf
import numpy as np
import torch
from safetensors import safe_open

from import_oracle import assert_fp32_match, llama, precis_logits, run

LAYER_NAMES = {
    "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight", "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
}
GLOBAL_NAMES = {"model.embed_tokens.weight": "token_embd.weight",
                "model.norm.weight": "output_norm.weight", "lm_head.weight": "output.weight"}


def gguf_name(hf):
    if hf in GLOBAL_NAMES:
        return GLOBAL_NAMES[hf]
    _, _, layer, rest = hf.split(".", 3)
    return f"blk.{layer}.{LAYER_NAMES[rest]}"


def to_interleaved(w, heads):
    """Each head's rows from HF's halves (i, i + d/2) to ggml's adjacent pairs (2i, 2i + 1)."""
    rows, cols = w.shape
    return w.reshape(heads, 2, rows // heads // 2, cols).swapaxes(1, 2).reshape(rows, cols)


def from_interleaved(w, heads):
    rows, cols = w.shape
    return w.reshape(heads, rows // heads // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def write_gguf(model, path, matrix_type):
    c = model.config
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("precis import test")
    w.add_context_length(c.max_position_embeddings)
    w.add_embedding_length(c.hidden_size)
    w.add_block_count(c.num_hidden_layers)
    w.add_feed_forward_length(c.intermediate_size)
    w.add_head_count(c.num_attention_heads)
    w.add_head_count_kv(c.num_key_value_heads)
    w.add_layer_norm_rms_eps(c.rms_norm_eps)
    w.add_rope_freq_base(c.rope_parameters["rope_theta"])
    w.add_rope_dimension_count(c.hidden_size // c.num_attention_heads)
    w.add_file_type(0)
    if matrix_type not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    stored = {}
    for name, p in model.state_dict().items():
        if name == "lm_head.weight" and c.tie_word_embeddings:
            continue
        x = p.detach().numpy().astype(np.float32)
        heads = {"q_proj": c.num_attention_heads, "k_proj": c.num_key_value_heads}
        kind = name.split(".")[-2]
        if kind in heads:
            x = to_interleaved(x, heads[kind])
        if x.ndim == 1 or matrix_type == gguf.GGMLQuantizationType.F32:
            data, back = x, x
        elif matrix_type == gguf.GGMLQuantizationType.F16:
            data = x.astype(np.float16)
            back = data.astype(np.float32)
        else:
            data = gguf.quants.quantize(x, matrix_type)
            back = gguf.quants.dequantize(data, matrix_type).astype(np.float32).reshape(x.shape)
        w.add_tensor(gguf_name(name), data, raw_dtype=None if data.dtype != np.uint8 else matrix_type)
        stored[name] = from_interleaved(back, heads[kind]) if kind in heads else back
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    # The reference: the model with exactly the values the file stores.
    with torch.no_grad():
        sd = model.state_dict()
        for name, v in stored.items():
            sd[name].copy_(torch.from_numpy(v))


def check(tmp, name, model, matrix_type):
    path = os.path.join(tmp, name + ".gguf")
    write_gguf(model, path, matrix_type)
    out = os.path.join(tmp, name + ".safetensors")
    print(run("import", path, "-o", out).stdout.strip())
    ids = np.random.default_rng(7).integers(0, model.config.vocab_size, size=(2, 24))
    assert_fp32_match(name, precis_logits(out, ids), model, ids)
    with safe_open(out, "np") as f:
        meta = f.metadata()
    config = json.loads(meta["config"])
    assert config["tied_head"] == model.config.tie_word_embeddings
    assert config["n_kv_heads"] == model.config.num_key_value_heads
    provenance = json.loads(meta["import"])
    assert provenance["format"] == "gguf" and provenance["name"] == "precis import test"
    assert provenance["tokenizer"] is None  # these files carry none
    assert provenance["source"] == os.path.abspath(path)


def main():
    T = gguf.GGMLQuantizationType
    with tempfile.TemporaryDirectory() as tmp:
        check(tmp, "f32_gqa", llama(seed=11), T.F32)
        check(tmp, "f16_tied", llama(seed=12, tied=True, kv_heads=1), T.F16)
        check(tmp, "q8_0_gqa", llama(seed=13), T.Q8_0)
        check(tmp, "q4_1_tied", llama(seed=14, tied=True), T.Q4_1)
    print("OK")


if __name__ == "__main__":
    main()
