"""Shared by the `precis import` oracle tests: small random transformers Llama models, running
precis (import, then logits through tests/logits_tool), and the fp32 tolerance.

Tolerance. precis and transformers both compute in fp32 but sum in different orders, so neither is
exact; what is justified is that precis is as accurate as transformers' own fp32 run. Both are
measured against transformers in float64 on the same weights: precis's error (max over logits)
must be within 4x transformers-fp32's error plus 16·2⁻²⁴·max|logit| (for logits fp32 happens to
get nearly exact), the rule tests/model/test_model_oracle.py uses for the engine itself.
"""
import os
import subprocess
import sys

import numpy as np
import torch

PRECIS = os.environ["PRECIS_BIN"]
LOGITS_TOOL = os.path.join(os.environ["PRECIS_BUILD"], "tests", "logits_tool")
EPS32 = 2.0**-24


def run(*args, check=True):
    proc = subprocess.run([PRECIS, *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        sys.exit(f"precis {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def llama(seed=0, vocab=96, hidden=64, layers=3, heads=4, kv_heads=2, ffn=96, tied=False,
          rope_theta=5000.0, rms_eps=1e-5, max_positions=64):
    """A LlamaForCausalLM whose weights are large enough that logits differ by O(1) (the default
    init, std 0.02, makes them all nearly equal and the comparison vacuous), norm gains not 1."""
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=kv_heads,
                         intermediate_size=ffn, tie_word_embeddings=tied, rope_theta=rope_theta,
                         rms_norm_eps=rms_eps, max_position_embeddings=max_positions,
                         attn_implementation="eager")
    model = LlamaForCausalLM(config).float().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            else:
                p.normal_(0.0, 1.0 / p.shape[-1] ** 0.5)
    return model


def transformers_logits(model, ids, dtype=torch.float32):
    m = model.to(dtype)
    with torch.no_grad():
        out = m(torch.tensor(ids, dtype=torch.long)).logits.to(torch.float64).numpy()
    model.float()
    return out


def precis_logits(model_file, ids, threads=1):
    ids = np.ascontiguousarray(ids, dtype=np.int32)
    B, T = ids.shape
    d = os.path.dirname(model_file)
    ids_path, out_path = os.path.join(d, "ids.i32"), os.path.join(d, "logits.f32")
    ids.tofile(ids_path)
    proc = subprocess.run([LOGITS_TOOL, model_file, ids_path, str(B), str(T), out_path, str(threads)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"logits_tool failed: {proc.stderr}")
    return np.fromfile(out_path, dtype=np.float32).reshape(B, T, -1).astype(np.float64)


def assert_fp32_match(name, ours, model, ids):
    """precis's logits against transformers' float64 run, within 4x transformers' fp32 error."""
    ref64 = transformers_logits(model, ids, torch.float64)
    ref32 = transformers_logits(model, ids, torch.float32)
    scale = np.abs(ref64).max()
    theirs_err = np.abs(ref32 - ref64).max()
    ours_err = np.abs(ours - ref64).max()
    bound = 4 * theirs_err + 16 * EPS32 * scale
    print(f"{name}: max|logit| {scale:.3f}, precis vs float64 {ours_err:.3e}, transformers fp32 vs "
          f"float64 {theirs_err:.3e}, bound {bound:.3e}, precis vs transformers fp32 "
          f"{np.abs(ours - ref32).max():.3e}")
    assert ours.shape == ref64.shape, (ours.shape, ref64.shape)
    assert scale > 1.0 and np.std(ref64) > 0.5, "logits too flat for a meaningful comparison"
    assert ours_err <= bound, f"{name}: precis's logits differ from transformers' by {ours_err}"
