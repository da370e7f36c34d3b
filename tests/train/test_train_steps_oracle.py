"""Ten training steps of the engine (forward, backward, global-norm clipping, AdamW) against the
PyTorch reference model of tests/model/transformer_ref.py with torch.nn.utils.clip_grad_norm_ and
torch.optim.AdamW, from the same weights on the same batches.

fp32 on both sides; a float64 PyTorch run measures how far fp32 itself drifts, and the engine
must stay within a small multiple of PyTorch-fp32's own distance from float64 (plus a floor of a
few fp32 ulps), for every step's loss and for the final weights.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "model"))
import transformer_ref as ref  # noqa: E402

TOOL = os.path.join(os.environ["PRECIS_BUILD"], "tests", "train_steps_tool")
STEPS, B = 10, 4
OPTIM = dict(lr=3e-3, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, clip=1.0)


def torch_steps(cfg, W, inputs, targets, dtype, policy):
    Wt = {k: v.to(dtype).clone().requires_grad_(True) for k, v in W.items()}
    opt = torch.optim.AdamW(list(Wt.values()), lr=OPTIM["lr"], betas=(OPTIM["beta1"], OPTIM["beta2"]),
                            eps=OPTIM["eps"], weight_decay=OPTIM["weight_decay"], foreach=False)
    losses = []
    for s in range(STEPS):
        opt.zero_grad()
        _, loss = ref.forward(cfg, Wt, inputs[s], targets[s], policy)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(Wt.values()), OPTIM["clip"])
        opt.step()
        losses.append(float(loss.detach()))
    return np.array(losses), {k: v.detach().double() for k, v in Wt.items()}


def rel(a, b):
    return float((a - b).norm() / b.norm())


def check(name, cfg, policy_json, policy, tmp):
    W = ref.init_weights(cfg, ref.layout(cfg), seed=5)
    g = torch.Generator().manual_seed(11)
    # One batch repeated: ten steps of memorising it must lower the loss.
    inputs = torch.randint(0, cfg["vocab_size"], (1, B, cfg["context"]), generator=g).repeat(STEPS, 1, 1)
    targets = torch.randint(0, cfg["vocab_size"], (1, B, cfg["context"]), generator=g).repeat(STEPS, 1, 1)
    src, dst = os.path.join(tmp, "in.safetensors"), os.path.join(tmp, "out.safetensors")
    arrays = {k: v.numpy().astype(np.float32) for k, v in W.items()}
    arrays["inputs"] = inputs.numpy().astype(np.int32)
    arrays["targets"] = targets.numpy().astype(np.int32)
    save_file(arrays, src, metadata={"config": json.dumps(cfg), "policy": policy_json,
                                     "optim": json.dumps(OPTIM)})
    subprocess.run([TOOL, src, dst], check=True)
    out = load_file(dst)
    l32, w32 = torch_steps(cfg, W, inputs, targets, torch.float32, policy)
    l64, w64 = torch_steps(cfg, W, inputs, targets, torch.float64, policy)
    le = out["losses"].astype(np.float64)
    d_engine = np.abs(le - l64) / l64
    d_torch = np.abs(l32 - l64) / l64
    print(f"{name}: losses {np.round(le, 5).tolist()}")
    print(f"{name}: max rel loss error vs float64: engine {d_engine.max():.2e}, torch fp32 "
          f"{d_torch.max():.2e}; engine vs torch fp32 {np.abs(le - l32).max() / l32.min():.2e}")
    assert np.all(d_engine <= 10 * d_torch + 1e-5), (d_engine, d_torch)
    we = {k: torch.from_numpy(v).double() for k, v in out.items() if k != "losses"}
    worst_e = max(rel(we[k], w64[k] ) for k in w64)
    worst_t = max(rel(w32[k], w64[k]) for k in w64)
    print(f"{name}: final weights, worst tensor rel error vs float64: engine {worst_e:.2e}, "
          f"torch fp32 {worst_t:.2e}")
    assert worst_e <= 10 * worst_t + 1e-5, (worst_e, worst_t)
    assert le[-1] < le[0], "ten steps at this learning rate must lower the loss"


def main():
    torch.set_num_threads(1)
    cfg = dict(vocab_size=64, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_hidden=96,
               context=16, tied_head=False, extra_norm=False, rms_eps=1e-5, rope_theta=10000.0)
    with tempfile.TemporaryDirectory() as tmp:
        pol = json.dumps(dict(weights="none", activations="none", kv="none", compute="fp32"))
        check("fp32", cfg, pol, ref.Policy(), tmp)
        pol = json.dumps(dict(weights="int4", activations="int8", kv="int8", compute="fp32"))
        check("w4a8kv8", cfg, pol, ref.Policy(w_bits=4, a_bits=8, kv_bits=8), tmp)
    print("OK")


if __name__ == "__main__":
    sys.exit(main())
