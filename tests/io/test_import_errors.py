"""`precis import` refuses what it cannot import faithfully: each case must exit with status 1,
print one `precis: error:` line naming the defect, print nothing on stdout, and leave no output
file (nor a temporary) behind; an output file that already existed stays as it was.

Cases: a foreign architecture (Mistral), attention biases, RoPE scaling, a head_dim other than
hidden/heads, a vocabulary above 65535, a missing tensor, a tensor of the wrong shape, an extra
(bias) tensor, a truncated safetensors file, an int8 tensor, a GGUF file of another architecture,
a GGUF file with experts, a file that is neither.
"""
import json
import os
import shutil
import tempfile

import gguf
import numpy as np
from safetensors.numpy import load_file, save_file

from import_oracle import llama, run


def case(tmp, name, src, expected):
    out_dir = os.path.join(tmp, "out_" + name)
    os.makedirs(out_dir)
    out = os.path.join(out_dir, "model.safetensors")
    proc = run("import", src, "-o", out, check=False)
    lines = proc.stderr.strip().splitlines()
    print(f"{name}: {proc.stderr.strip()}")
    assert proc.returncode == 1, f"{name}: exit {proc.returncode}: {proc.stderr}"
    assert len(lines) == 1 and lines[0].startswith("precis: error: "), f"{name}: {proc.stderr}"
    assert expected in lines[0], f"{name}: '{expected}' not in: {lines[0]}"
    assert proc.stdout == "", f"{name}: printed {proc.stdout}"
    assert os.listdir(out_dir) == [], f"{name}: left {os.listdir(out_dir)}"


def variant(tmp, base, name, edit_config=None, edit_tensors=None):
    d = os.path.join(tmp, name)
    shutil.copytree(base, d)
    if edit_config:
        path = os.path.join(d, "config.json")
        with open(path) as f:
            c = json.load(f)
        edit_config(c)
        with open(path, "w") as f:
            json.dump(c, f)
    if edit_tensors:
        path = os.path.join(d, "model.safetensors")
        t = load_file(path)
        edit_tensors(t)
        save_file(t, path, metadata={"format": "pt"})
    return d


def tiny_gguf(path, arch, extra=None):
    w = gguf.GGUFWriter(path, arch)
    w.add_context_length(64)
    w.add_embedding_length(8)
    w.add_block_count(1)
    w.add_feed_forward_length(16)
    w.add_head_count(2)
    w.add_layer_norm_rms_eps(1e-5)
    for k, v in (extra or {}).items():
        w.add_uint32(k, v)
    w.add_tensor("token_embd.weight", np.zeros((10, 8), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base")
        llama(seed=5, layers=1).save_pretrained(base)

        case(tmp, "mistral", variant(tmp, base, "mistral", lambda c: c.update(
            architectures=["MistralForCausalLM"], model_type="mistral")), "MistralForCausalLM")
        case(tmp, "bias", variant(tmp, base, "bias", lambda c: c.update(attention_bias=True)),
             "attention_bias")
        case(tmp, "rope_scaling", variant(tmp, base, "rope_scaling", lambda c: c.update(
            rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 5000.0})),
             "RoPE scaling 'linear'")
        case(tmp, "head_dim", variant(tmp, base, "head_dim", lambda c: c.update(head_dim=32)),
             "head_dim is 32")
        case(tmp, "vocab", variant(tmp, base, "vocab", lambda c: c.update(vocab_size=70000)),
             "70000 tokens")
        case(tmp, "missing", variant(tmp, base, "missing", edit_tensors=lambda t: t.pop(
            "model.layers.0.mlp.up_proj.weight")), "'model.layers.0.mlp.up_proj.weight' (shape [96, 64]) is missing")
        case(tmp, "shape", variant(tmp, base, "shape", lambda c: c.update(intermediate_size=128)),
             "has shape [64, 96] but config.json implies [64, 128]")
        case(tmp, "extra_bias", variant(tmp, base, "extra_bias", edit_tensors=lambda t: t.update(
            {"model.layers.0.self_attn.q_proj.bias": np.zeros(64, np.float32)})), "is a bias")
        case(tmp, "int8", variant(tmp, base, "int8", edit_tensors=lambda t: t.update(
            {"model.norm.weight": np.zeros(64, np.int8)})), "is I8")

        truncated = variant(tmp, base, "truncated")
        path = os.path.join(truncated, "model.safetensors")
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.truncate(size - 100)
        case(tmp, "truncated", truncated, "model.safetensors")

        # An existing output file survives a failed import unchanged.
        keep_dir = os.path.join(tmp, "keep")
        os.makedirs(keep_dir)
        keep = os.path.join(keep_dir, "model.safetensors")
        with open(keep, "wb") as f:
            f.write(b"previous")
        proc = run("import", truncated, "-o", keep, check=False)
        assert proc.returncode == 1 and open(keep, "rb").read() == b"previous"
        assert os.listdir(keep_dir) == ["model.safetensors"]

        g = os.path.join(tmp, "gpt2.gguf")
        tiny_gguf(g, "gpt2")
        case(tmp, "gguf_arch", g, "architecture is 'gpt2'")
        g = os.path.join(tmp, "moe.gguf")
        tiny_gguf(g, "llama", {"llama.expert_count": 8})
        case(tmp, "gguf_moe", g, "8 experts")
        neither = os.path.join(tmp, "weights.bin")
        with open(neither, "wb") as f:
            f.write(b"\0" * 64)
        case(tmp, "neither", neither, "neither a directory")
        case(tmp, "absent", os.path.join(tmp, "absent"), "does not exist")
    print("OK")


if __name__ == "__main__":
    main()
