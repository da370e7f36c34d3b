"""Writes the seed inputs of the import fuzzers (tests/io/fuzz/import_seeds): small valid models
that `precis import` accepts, so that the fuzzers start from deep inside the importers rather than
at the first magic-number check.

gguf/: Llama GGUF files written by PyPI's `gguf` package (the writer llama.cpp's converters use),
with a GPT-2 byte-level BPE and a SentencePiece tokenizer, F32/F16/BF16 and block-quantized
tensors (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q6_K, Q4_K), tied and untied heads.
hf/: config.json text, a NUL byte, then a safetensors image (import_entry_points.hpp).

Run with the oracle venv's python: python tests/io/fuzz/make_import_seeds.py
"""

import json
import os
import tempfile

import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGML_QUANT_SIZES, GGUFWriter, TokenType
from gguf.quants import quantize
from safetensors.numpy import save

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(5)


def llama_shapes(d, f, kv, vocab, tied):
    """HF (out, in) shapes under llama.cpp names."""
    s = {"token_embd.weight": (vocab, d), "output_norm.weight": (d,)}
    s |= {
        "blk.0.attn_norm.weight": (d,),
        "blk.0.attn_q.weight": (d, d),
        "blk.0.attn_k.weight": (kv, d),
        "blk.0.attn_v.weight": (kv, d),
        "blk.0.attn_output.weight": (d, d),
        "blk.0.ffn_norm.weight": (d,),
        "blk.0.ffn_gate.weight": (f, d),
        "blk.0.ffn_up.weight": (f, d),
        "blk.0.ffn_down.weight": (d, f),
    }
    if not tied:
        s["output.weight"] = (vocab, d)
    return s


def write_gguf(name, d, heads, kv_heads, f, tokenizer, types, tied):
    vocab = len(tokenizer["tokens"])
    path = os.path.join(tempfile.mkdtemp(), name)
    w = GGUFWriter(path, "llama")
    w.add_name(name)
    w.add_context_length(64)
    w.add_embedding_length(d)
    w.add_block_count(1)
    w.add_feed_forward_length(f)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_rope_dimension_count(d // heads)
    w.add_vocab_size(vocab)
    w.add_tokenizer_model(tokenizer["model"])
    if "pre" in tokenizer:
        w.add_tokenizer_pre(tokenizer["pre"])
    w.add_token_list(tokenizer["tokens"])
    w.add_token_types(tokenizer["types"])
    if "scores" in tokenizer:
        w.add_token_scores(tokenizer["scores"])
    if "merges" in tokenizer:
        w.add_token_merges(tokenizer["merges"])
    w.add_bos_token_id(tokenizer["bos"])
    w.add_eos_token_id(tokenizer["eos"])
    w.add_add_bos_token(False)
    kv = kv_heads * (d // heads)
    for tname, shape in llama_shapes(d, f, kv, vocab, tied).items():
        x = rng.standard_normal(shape).astype(np.float32)
        t = Q.F32 if len(shape) == 1 else types.get(tname.split(".")[-2], Q.F32)
        if t == Q.F32:
            w.add_tensor(tname, x)
        elif t == Q.F16:
            w.add_tensor(tname, x.astype(np.float16))
        elif t in (Q.Q4_K, Q.Q6_K):  # gguf cannot quantize these: any bytes are valid blocks
            block, size = GGML_QUANT_SIZES[t]
            raw = rng.integers(0, 256, (shape[0], shape[1] // block * size), dtype=np.uint8)
            w.add_tensor(tname, raw, raw_dtype=t)
        else:
            w.add_tensor(tname, quantize(x, t), raw_dtype=t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(path, "rb") as fh:
        data = fh.read()
    with open(os.path.join(HERE, "import_seeds", "gguf", name), "wb") as fh:
        fh.write(data)


def gpt2_tokenizer():
    # Byte-level symbols (Ġ is the space), a few merges, a user-defined and a control token.
    tokens = ["H", "e", "l", "o", "\u0120", "w", "r", "d", "ll", "He", "\u0120w", "<|user|>",
              "<|endoftext|>", "1", "2", "3"]
    types = [TokenType.NORMAL] * len(tokens)
    types[11] = TokenType.USER_DEFINED
    types[12] = TokenType.CONTROL
    return {"model": "gpt2", "pre": "smollm", "tokens": tokens, "types": types,
            "merges": ["l l", "H e", "\u0120 w"], "bos": 12, "eos": 12}


def spm_tokenizer():
    tokens = ["<unk>", "<s>", "</s>", "\u2581H", "ello", "\u2581", "o", "l"]
    tokens += [f"<0x{b:02X}>" for b in range(256)]  # the byte fallback needs all 256
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL] + [TokenType.NORMAL] * 5
    types += [TokenType.BYTE] * 256
    scores = [0.0, 0.0, 0.0, -1.0, -2.0, -3.0, -4.0, -5.0] + [0.0] * 256
    return {"model": "llama", "tokens": tokens, "types": types, "scores": scores, "bos": 1,
            "eos": 2}


def write_hf(name, config, tensors):
    blob = json.dumps(config).encode() + b"\0" + save(tensors)
    with open(os.path.join(HERE, "import_seeds", "hf", name), "wb") as fh:
        fh.write(blob)


def hf_tensors(d, f, kv, vocab, tied, dtype):
    names = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head",
             "blk.0.attn_norm": "model.layers.0.input_layernorm",
             "blk.0.attn_q": "model.layers.0.self_attn.q_proj",
             "blk.0.attn_k": "model.layers.0.self_attn.k_proj",
             "blk.0.attn_v": "model.layers.0.self_attn.v_proj",
             "blk.0.attn_output": "model.layers.0.self_attn.o_proj",
             "blk.0.ffn_norm": "model.layers.0.post_attention_layernorm",
             "blk.0.ffn_gate": "model.layers.0.mlp.gate_proj",
             "blk.0.ffn_up": "model.layers.0.mlp.up_proj",
             "blk.0.ffn_down": "model.layers.0.mlp.down_proj"}
    out = {}
    for tname, shape in llama_shapes(d, f, kv, vocab, tied).items():
        out[names[tname.removesuffix(".weight")] + ".weight"] = (
            rng.standard_normal(shape).astype(dtype))
    return out


def main():
    for sub in ("gguf", "hf"):
        os.makedirs(os.path.join(HERE, "import_seeds", sub), exist_ok=True)
    write_gguf("gpt2_f32_tied.gguf", 4, 2, 1, 8, gpt2_tokenizer(), {}, tied=True)
    write_gguf("spm_blocks_untied.gguf", 32, 4, 2, 32, spm_tokenizer(),
               {"attn_q": Q.Q8_0, "attn_k": Q.Q4_0, "attn_v": Q.Q4_1, "attn_output": Q.Q5_0,
                "ffn_gate": Q.Q5_1, "ffn_up": Q.F16, "ffn_down": Q.Q8_0, "token_embd": Q.BF16,
                "output": Q.Q8_0}, tied=False)
    write_gguf("gpt2_kquants.gguf", 32, 2, 2, 256, gpt2_tokenizer(),
               {"ffn_down": Q.Q6_K, "ffn_gate": Q.Q8_0, "ffn_up": Q.Q4_0}, tied=True)
    write_gguf("gpt2_q4k.gguf", 32, 2, 2, 256, gpt2_tokenizer(),
               {"ffn_down": Q.Q4_K, "ffn_gate": Q.Q8_0, "ffn_up": Q.Q8_0}, tied=True)

    base = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 16,
            "hidden_size": 4, "num_hidden_layers": 1, "num_attention_heads": 2,
            "num_key_value_heads": 1, "intermediate_size": 8, "max_position_embeddings": 64,
            "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
            "tie_word_embeddings": False}
    write_hf("f32_untied", base, hf_tensors(4, 8, 2, 16, False, np.float32))
    tied = base | {"tie_word_embeddings": True, "head_dim": 2, "attention_bias": False,
                   "rope_parameters": {"rope_type": "default", "rope_theta": 5e5}}
    del tied["rope_theta"]
    t = hf_tensors(4, 8, 2, 16, True, np.float16)
    t["model.layers.0.self_attn.rotary_emb.inv_freq"] = np.ones(1, np.float32)
    write_hf("f16_tied", tied, t)


if __name__ == "__main__":
    main()
