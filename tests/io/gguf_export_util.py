"""Helpers shared by the `precis export --gguf` oracle tests: precis model files written from
numpy (so the tests need no training run), llama.cpp's q/k row permutation as its converter
writes it, and precis's own dequantization of a GGUF tensor."""
import json
import os
import subprocess
import sys

import numpy as np
from safetensors.numpy import save_file

PRECIS = os.environ["PRECIS_BIN"]
BUILD = os.environ["PRECIS_BUILD"]
GGUF_TOOL = os.path.join(BUILD, "tests", "gguf_file_tool")
LOGITS_TOOL = os.path.join(BUILD, "tests", "logits_tool")


def run(*args, check=True):
    proc = subprocess.run([PRECIS, *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        sys.exit(f"precis {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def config_json(vocab=256, d=64, layers=2, heads=4, kv_heads=4, ffn=192, context=64, tied=False,
                extra_norm=False, eps=1e-5, theta=10000.0):
    return {"vocab_size": vocab, "d_model": d, "n_layers": layers, "n_heads": heads,
            "n_kv_heads": kv_heads, "ffn_hidden": ffn, "context": context, "tied_head": tied,
            "extra_norm": extra_norm, "rms_eps": eps, "rope_theta": theta}


def policy_json(activations="none"):
    return {"weights": "none", "activations": activations, "kv": "none", "compute": "fp32",
            "quantize_head": True}


def hf_shapes(c):
    """precis's parameter layout (model/layout.cpp): HF names, (out, in) shapes."""
    d, hd = c["d_model"], c["d_model"] // c["n_heads"]
    q, kv, f = c["n_heads"] * hd, c["n_kv_heads"] * hd, c["ffn_hidden"]
    shapes = {"model.embed_tokens.weight": (c["vocab_size"], d)}
    for i in range(c["n_layers"]):
        p = f"model.layers.{i}."
        shapes.update({p + "input_layernorm.weight": (d,), p + "self_attn.q_proj.weight": (q, d),
                       p + "self_attn.k_proj.weight": (kv, d), p + "self_attn.v_proj.weight": (kv, d),
                       p + "self_attn.o_proj.weight": (d, q), p + "post_attention_layernorm.weight": (d,),
                       p + "mlp.gate_proj.weight": (f, d), p + "mlp.up_proj.weight": (f, d),
                       p + "mlp.down_proj.weight": (d, f)})
        if c["extra_norm"]:
            shapes[p + "self_attn.o_norm.weight"] = (q,)
            shapes[p + "mlp.down_norm.weight"] = (f,)
    shapes["model.norm.weight"] = (d,)
    if not c["tied_head"]:
        shapes["lm_head.weight"] = (c["vocab_size"], d)
    return shapes


def random_weights(c, seed):
    """Weights large enough that the logits vary over several nats (N(0, 0.02) would leave them
    nearly uniform, and a parity test on near-constant logits would prove little); norm gains
    around 1."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in hf_shapes(c).items():
        if len(shape) == 1:
            out[name] = (1 + 0.2 * rng.standard_normal(shape)).astype(np.float32)
        else:
            out[name] = (rng.standard_normal(shape) * 1.5 / np.sqrt(shape[1])).astype(np.float32)
    return out


def write_model(path, c, weights, activations="none"):
    meta = {"format": "pt", "config": json.dumps(c), "policy": json.dumps(policy_json(activations))}
    save_file({k: np.ascontiguousarray(v) for k, v in weights.items()}, path, metadata=meta)


# The converter's names (independent of precis's table in io/llama_gguf.cpp).
GLOBAL_NAMES = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
                "lm_head.weight": "output.weight"}
LAYER_NAMES = {"self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
               "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
               "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
               "mlp.down_proj.weight": "ffn_down.weight", "input_layernorm.weight": "attn_norm.weight",
               "post_attention_layernorm.weight": "ffn_norm.weight"}


def gguf_name(hf):
    if hf in GLOBAL_NAMES:
        return GLOBAL_NAMES[hf]
    _, _, layer, rest = hf.split(".", 3)
    return f"blk.{layer}.{LAYER_NAMES[rest]}"


def hf_name(name):
    for hf, gguf in GLOBAL_NAMES.items():
        if gguf == name:
            return hf
    _, layer, rest = name.split(".", 2)
    return f"model.layers.{layer}." + {g: h for h, g in LAYER_NAMES.items()}[rest]


def permute(w, n_head):
    """convert_hf_to_gguf.py's LlamaModel.permute: HF rotate-half rows -> ggml interleaved pairs.
    Works on any array whose first axis is the rows (fp32 rows or rows of packed blocks)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute(w, n_head):
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def heads_of(gguf, c):
    if gguf.endswith("attn_q.weight"):
        return c["n_heads"]
    if gguf.endswith("attn_k.weight"):
        return c["n_kv_heads"]
    return 0


def precis_dequant(path, name, tmp):
    out = os.path.join(tmp, "dequant.f32")
    proc = subprocess.run([GGUF_TOOL, "dequant", path, name, out], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"gguf_file_tool dequant {path} {name} failed: {proc.stderr}")
    return np.fromfile(out, dtype=np.float32)


def precis_logits(model, ids, vocab, tmp):
    ids_path, out = os.path.join(tmp, "ids.i32"), os.path.join(tmp, "logits.f32")
    np.asarray(ids, dtype=np.int32).tofile(ids_path)
    proc = subprocess.run([LOGITS_TOOL, model, ids_path, "1", str(len(ids)), out, "1"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"logits_tool {model} failed: {proc.stderr}")
    return np.fromfile(out, dtype=np.float32).reshape(len(ids), vocab)


def llama_cpp_follows_precis():
    """Whether llama.cpp's CPU kernels (llama-cpp-python's build) are the ones precis's
    --arith llama.cpp follows on this CPU, and a sentence saying which or why not: it needs AVX2,
    FMA and F16C, and AVX512 exactly when precis takes the 16-lane variant (the CPU has AVX-512 F
    and DQ and PRECIS_ISA does not cap it at avx2), else the 8-lane one. Both variants have been
    checked bit for bit: the 16-lane one against the native build on a Zen 5, the 8-lane one
    against an AVX2+FMA+F16C build (GGML_NATIVE=OFF) on the same machine with PRECIS_ISA=avx2."""
    import llama_cpp
    info = llama_cpp.llama_print_system_info().decode()
    flags = dict(part.strip().split(" = ") for part in info.split("|") if " = " in part)
    for need in ("AVX2", "FMA", "F16C"):
        if flags.get(need) != "1":
            return False, f"llama.cpp was built without {need} ({info.strip()})"
    cpu = open("/proc/cpuinfo").read().split()
    capped = os.environ.get("PRECIS_ISA") in ("avx2", "reference")
    precis_16_lanes = "avx512f" in cpu and "avx512dq" in cpu and not capped
    if (flags.get("AVX512") == "1") != precis_16_lanes:
        return False, (f"llama.cpp's AVX512 = {flags.get('AVX512')} but precis follows the "
                       f"{16 if precis_16_lanes else 8}-lane kernels here: other lanes, other sums")
    return True, f"llama.cpp's kernels: AVX2+FMA+F16C, AVX512 = {flags.get('AVX512')}"
