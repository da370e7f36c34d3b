"""Oracle: the engine's logits, loss and every parameter gradient against a PyTorch Transformer++
(transformer_ref.py) on the same weights and batch, for fp32, fake-quant W4/A8/KV8 (straight-
through), bf16 compute, and the tied-head + extra-norm variant.

Tolerances. Each quantity is compared as a relative error in the 2-norm, ‖a − ref‖ / ‖ref‖,
against a float64 reference. fp32 arithmetic in a different summation order (oneDNN's blocking
vs PyTorch's) has errors of the same size as PyTorch's own fp32 run, so the engine must be within
4× PyTorch-fp32's error against float64, plus 16·2⁻²⁴ ≈ 1e-6 for quantities PyTorch happens to get
nearly exact. With fake quantization the same bound holds as long as no element lies within fp32
rounding of a quantization boundary (true for this fixed batch), and the test checks that
quantization moves every result by more than 1000x the bound, so it is not vacuous.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transformer_ref as ref  # noqa: E402

TOOL = os.path.join(os.environ["PRECIS_BUILD"], "tests", "model_tool")
EPS32 = 2.0**-24


def config(**kw):
    c = dict(vocab_size=256, d_model=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_hidden=192,
             context=16, tied_head=False, extra_norm=False, rms_eps=1e-5, rope_theta=10000.0)
    c.update(kw)
    return c


def policy_json(w="none", a="none", kv="none", compute="fp32"):
    return json.dumps(dict(weights=w, activations=a, kv=kv, compute=compute))


def run_engine(cfg, pol, W, inputs, targets, threads, tmp):
    src, dst = os.path.join(tmp, "in.safetensors"), os.path.join(tmp, "out.safetensors")
    arrays = {k: v.numpy().astype(np.float32) for k, v in W.items()}
    arrays["inputs"] = inputs.numpy().astype(np.int32)
    arrays["targets"] = targets.numpy().astype(np.int32)
    save_file(arrays, src, metadata={"config": json.dumps(cfg), "policy": pol})
    subprocess.run([TOOL, src, dst, str(threads)], check=True)
    out = load_file(dst)
    grads = {k[5:]: torch.from_numpy(v) for k, v in out.items() if k.startswith("grad.")}
    return torch.from_numpy(out["logits"]), float(out["loss"][0]), grads


def run_torch(cfg, policy, W, inputs, targets, dtype):
    Wt = {k: v.to(dtype).clone().requires_grad_(True) for k, v in W.items()}
    logits, loss = ref.forward(cfg, Wt, inputs, targets, policy)
    loss.backward()
    return logits.detach(), float(loss.detach()), {k: v.grad for k, v in Wt.items()}


def rel(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / max(float(b.norm()), 1e-300))


def results(engine, torch32, torch64):
    """Yields (name, engine error vs fp64, torch-fp32 error vs fp64, engine error vs torch32)."""
    (le, ce, ge), (l3, c3, g3), (l6, c6, g6) = engine, torch32, torch64
    yield "logits", rel(le, l6), rel(l3, l6), rel(le, l3)
    yield "loss", abs(ce - c6) / abs(c6), abs(c3 - c6) / abs(c6), abs(ce - c3) / abs(c3)
    for k in g6:
        yield "grad " + k, rel(ge[k], g6[k]), rel(g3[k], g6[k]), rel(ge[k], g3[k])


def check_fp32(name, cfg, threads, tmp):
    W = ref.init_weights(cfg, ref.layout(cfg), seed=1)
    g = torch.Generator().manual_seed(2)
    inputs = torch.randint(0, cfg["vocab_size"], (2, cfg["context"]), generator=g)
    targets = torch.randint(0, cfg["vocab_size"], (2, cfg["context"]), generator=g)
    eng = run_engine(cfg, policy_json(), W, inputs, targets, threads, tmp)
    t32 = run_torch(cfg, ref.Policy(), W, inputs, targets, torch.float32)
    t64 = run_torch(cfg, ref.Policy(), W, inputs, targets, torch.float64)
    assert set(eng[2]) == set(t64[2]), "engine and reference name different tensors"
    worst = 0.0
    for what, e64, t64err, _ in results(eng, t32, t64):
        bound = 4 * t64err + 16 * EPS32
        worst = max(worst, e64 / bound)
        assert e64 <= bound, f"{name}: {what}: engine error {e64:.3g} > bound {bound:.3g}"
    print(f"{name}: {len(eng[2])} gradients, logits and loss within bound "
          f"(worst engine error / bound = {worst:.2f}); loss {eng[1]:.6f} vs {t64[1]:.6f}")
    return W, inputs, targets, eng


def check_quant(tmp, threads):
    cfg = config()
    W = ref.init_weights(cfg, ref.layout(cfg), seed=3)
    g = torch.Generator().manual_seed(4)
    inputs = torch.randint(0, 256, (2, 16), generator=g)
    targets = torch.randint(0, 256, (2, 16), generator=g)
    pol = ref.Policy(w_bits=4, a_bits=8, kv_bits=8)
    eng = run_engine(cfg, policy_json("int4", "int8", "int8"), W, inputs, targets, threads, tmp)
    t32 = run_torch(cfg, pol, W, inputs, targets, torch.float32)
    t64 = run_torch(cfg, pol, W, inputs, targets, torch.float64)
    fp = run_torch(cfg, ref.Policy(), W, inputs, targets, torch.float64)
    worst, effect = 0.0, float("inf")
    for (what, e64, t64err, _), (_, q_vs_fp, _, _) in zip(results(eng, t32, t64),
                                                        results(t64, fp, fp)):
        bound = 4 * t64err + 16 * EPS32
        worst = max(worst, e64 / bound)
        effect = min(effect, q_vs_fp / bound)
        # A rounding flip (an element within fp32 rounding of a quantization boundary) would show
        # here as an error near 1e-3; this batch has none, so the fp32 bound applies unchanged.
        assert e64 <= bound, (f"quant W4/A8/KV8, {threads} threads: {what}: engine {e64:.3g} > "
                              f"bound {bound:.3g}")
    # Quantization must move every quantity by far more than the bound, or the test is vacuous.
    assert effect > 1000, f"quantization moved some result by only {effect:.3g}x the bound"
    print(f"quant W4/A8/KV8 (STE), {threads} threads: logits, loss, all gradients within bound "
          f"of a float64 torch reference (worst error/bound {worst:.2f}); quantization effect >= "
          f"{effect:.0f}x bound; loss {eng[1]:.6f} vs {t64[1]:.6f}")


def check_bf16(W, inputs, targets, fp32_engine, tmp):
    cfg = config()
    eng = run_engine(cfg, policy_json(compute="bf16"), W, inputs, targets, 2, tmp)
    emu = run_torch(cfg, ref.Policy(bf16=True), W, inputs, targets, torch.float32)
    emu64 = run_torch(cfg, ref.Policy(bf16=True), W, inputs, targets, torch.float64)
    # bf16 compute rounds every product's operands to bf16, so a result is defined only up to the
    # rounding flips that the products' fp32 summation order causes: an operand within an fp32
    # rounding of a bf16 boundary lands on either side (2^-9 relative, one element), and the
    # flips grow through the layers. The same emulation summed in fp32 and in fp64 (emu, emu64)
    # measures that spread on this batch (2e-5 on the logits, up to 2.3e-3 on gradients).
    # (1) The engine against the fp64-summed emulation: within twice that spread plus one
    # flip's 2^-9. Where the engine's products are the fp32 emulation (no native bf16), it
    # equals the PyTorch emulation to fp32 rounding; oneDNN's native bf16 kernels
    # (AVX512_BF16) sum in their own order, so they differ from both by flips of that kind.
    # (2) Against the fp32 engine: within bf16 tolerance, a few units of 2^-8 relative.
    worst_emu, worst_fp = 0.0, 0.0
    for (what, e_emu, spread, _), (_, _, _, e_fp) in zip(
            results(eng, emu, emu64), results(eng, fp32_engine, fp32_engine)):
        bound = 2 * spread + 2.0**-9
        worst_emu, worst_fp = max(worst_emu, e_emu / bound), max(worst_fp, e_fp)
        assert e_emu <= bound, (f"bf16: {what}: engine vs fp64-summed torch bf16 emulation "
                                f"{e_emu:.3g} > {bound:.3g} (fp32 vs fp64 emulation {spread:.3g})")
        assert e_fp <= 8 * 2.0**-8, f"bf16: {what}: engine bf16 vs engine fp32 {e_fp:.3g}"
    assert worst_fp > 1e-4, "bf16 compute gave fp32 results: operands were not rounded"
    print(f"bf16: worst error / bound vs torch bf16 emulation {worst_emu:.2f}, "
          f"worst vs fp32 {worst_fp:.3g} (bound {8 * 2.0**-8:.3g})")


def main():
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        W, inputs, targets, fp32_eng = check_fp32("fp32 untied", config(), 1, tmp)
        check_fp32("fp32 untied, 2 threads", config(), 2, tmp)
        check_fp32("fp32 tied + extra_norm, MHA, T=83 (ragged query and key tiles)",
                   config(vocab_size=64, tied_head=True, extra_norm=True, n_kv_heads=4,
                          context=83), 2, tmp)
        # The engine runs the gate/up product and SwiGLU (and their backward) in blocks of rows;
        # FFN 2048 makes the blocks 64 rows, so 2 × 83 rows take two blocks and a ragged third.
        check_fp32("fp32 untied, FFN 2048, T=83 (MLP row blocks 64 + 64 + 38)",
                   config(ffn_hidden=2048, context=83), 2, tmp)
        check_quant(tmp, 1)
        check_quant(tmp, 2)
        check_bf16(W, inputs, targets, fp32_eng, tmp)
    print("OK")


if __name__ == "__main__":
    main()
