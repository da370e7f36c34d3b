"""Why GPTQ can lose to RTN on SmolLM2 (docs/real-model.md, "Diagnosing GPTQ"): per linear layer,
the output error ‖X(W−Q)ᵀ‖² of RTN and of GPTQ measured on held-out rows, for Hessians estimated
from few or many calibration windows, with and without each window's first position.

Independent of precis's GPTQ: the model runs in transformers (fp32) on the imported reference
weights, the layer inputs of the *unquantized* model are reduced to Hessians H = XᵀX (float64),
and GPTQ is restated here unblocked in float64 (chol(H⁻¹) upper, damping λ·mean diag H, dead
inputs zeroed). The held-out error of a weight Q needs only the held-out Hessian:
‖X(W−Q)ᵀ‖² = tr((W−Q) H_test (W−Q)ᵀ), so nothing row-sized is kept.

usage: python scripts/real_model_gptq_diagnosis.py REF.safetensors DATASET_DIR [--layers 0,10,29]
       [--compare PRECIS_INTK_CHANNEL.safetensors...] [--more]
       [--calib 32] [--few 4] [--test 8] [--length 512] [--bits 4] [--threads 2]
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np
import torch
from safetensors import safe_open

SITES = {  # module whose input is captured → the weights multiplying that input
    "self_attn.q_proj": ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"],
    "self_attn.o_proj": ["self_attn.o_proj"],
    "mlp.gate_proj": ["mlp.gate_proj", "mlp.up_proj"],
    "mlp.down_proj": ["mlp.down_proj"],
}


def shard_tokens(path):
    """A precis shard: llm.c's 1024-byte header, then uint16 ids."""
    return np.fromfile(path, dtype=np.uint16, offset=1024)


def load_model(ref, tmp):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "io"))
    # The oracle module next to it reads these at import; nothing here calls precis.
    os.environ.setdefault("PRECIS_BIN", "precis")
    os.environ.setdefault("PRECIS_BUILD", "build")
    from test_import_smollm2 import transformers_model
    return transformers_model(ref, tmp).eval()


class Stop(Exception):
    pass


def stop(*_):
    raise Stop()


def hessians(model, windows, layers, snapshot=None):
    """Σ xᵀx over every row of the windows (float64), per (layer, site), and the same without each
    window's position 0; with snapshot = k, also both after the first k windows."""
    acc, acc_skip, hooks = {}, {}, []
    for l in layers:
        for site in SITES:
            mod = model.model.layers[l].get_submodule(site)

            def hook(_m, args, key=(l, site)):
                x = args[0].detach().to(torch.float64)  # (B, T, in)
                full = torch.einsum("bti,btj->ij", x, x)
                acc[key] = acc.get(key, 0) + full
                acc_skip[key] = acc_skip.get(key, 0) + full - torch.einsum("bi,bj->ij", x[:, 0], x[:, 0])
            hooks.append(mod.register_forward_pre_hook(hook))
    # Nothing past the last layer asked for is needed: stop there (and never run the head).
    hooks.append(model.model.layers[max(layers)].register_forward_hook(stop))
    early = None
    with torch.no_grad():
        for i, w in enumerate(windows):
            try:
                model.model(torch.tensor(w[None].astype(np.int64)))
            except Stop:
                pass
            if snapshot is not None and i + 1 == snapshot:
                early = ({k: v.clone() for k, v in acc.items()}, {k: v.clone() for k, v in acc_skip.items()})
    for h in hooks:
        h.remove()
    return (acc, acc_skip) if early is None else (acc, acc_skip, *early)


def quantizer(w, bits):
    """Symmetric absmax per output channel, as precis's intK:channel."""
    qmax = 2 ** (bits - 1) - 1
    scale = w.abs().amax(dim=1, keepdim=True) / qmax
    scale[scale == 0] = 1
    return lambda col, i: torch.clamp(torch.round(col / scale[:, 0]), -qmax - 1, qmax) * scale[:, 0]


def rtn(w, bits):
    q = quantizer(w, bits)
    return torch.stack([q(w[:, i], i) for i in range(w.shape[1])], dim=1)


def gptq(w, h, bits, damp=0.01, act_order=False):
    w = w.clone().to(torch.float64)
    h = h.clone()
    dead = torch.diag(h) == 0
    h[dead, dead] = 1
    w[:, dead] = 0
    q_of = quantizer(w, bits)  # per channel: fitted from the whole original row, as the reference
    perm = torch.argsort(torch.diag(h), descending=True, stable=True) if act_order else None
    if perm is not None:
        w, h = w[:, perm], h[perm][:, perm]
    h = h + damp * torch.mean(torch.diag(h)) * torch.eye(h.shape[0], dtype=h.dtype)
    r = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    q = torch.zeros_like(w)
    for i in range(w.shape[1]):
        q[:, i] = q_of(w[:, i], i)
        err = (w[:, i] - q[:, i]) / r[i, i]
        w[:, i + 1:] -= torch.outer(err, r[i, i + 1:])
    if perm is not None:
        q = q[:, torch.argsort(perm)]
    return q


def precis_int_channel(path, name, rows, cols):
    """A tensor of a precis quantized checkpoint in a symmetric intK:channel format, dequantized
    (docs/formats.md: fp32 scale per row, then K-bit offset-binary codes, LSB first)."""
    with safe_open(path, "np") as f:
        spec = json.loads(f.metadata()["precis.quantized"])[name]["format"]
        raw = f.get_tensor(name)
    bits = int(spec.split(":")[0][3:])
    assert spec == f"int{bits}:channel", f"{path}: {name} is {spec}, only intK:channel is read here"
    scale = raw[:rows * 4].view(np.float32)
    codes = np.unpackbits(raw[rows * 4:], bitorder="little")[:rows * cols * bits]
    codes = codes.reshape(-1, bits) @ (1 << np.arange(bits))
    q = (codes.reshape(rows, cols) - 2 ** (bits - 1)) * scale[:, None].astype(np.float64)
    return torch.from_numpy(q)


def output_error(w, q, h_test):
    e = (w - q).to(torch.float64)
    return float(torch.einsum("oi,ij,oj->", e, h_test, e))


def compare_only(a, model, layers, h_spread, h_first):
    names = ["rtn (here)"] + [os.path.basename(c)[:17] for c in a.compare]
    print(f"int{a.bits}:channel; relative output error ‖X(W−Q)ᵀ‖²/‖XWᵀ‖² on held-out rows: "
          f"{a.test} windows of {a.length} spread over the validation split | its first {a.test} "
          f"windows")
    print(f"{'tensor':28} | " + " | ".join(f"{n:>17}" for n in names))
    totals = np.zeros((len(names), 2))
    for l in layers:
        for site, tensors in SITES.items():
            key = (l, site)
            for name in tensors:
                w = model.model.layers[l].get_submodule(name).weight.detach().to(torch.float64)
                qs = [rtn(w, a.bits)] + [precis_int_channel(c, f"model.layers.{l}.{name}.weight",
                                                            *w.shape) for c in a.compare]
                cells = []
                for i, q in enumerate(qs):
                    e = [output_error(w, q, h) / output_error(w, torch.zeros_like(w), h)
                         for h in (h_spread[key], h_first[key])]
                    totals[i] += e
                    cells.append(f"{e[0]:.2e}|{e[1]:.2e}")
                print(f"{l:2d} {name:25} | " + " | ".join(cells), flush=True)
    print("sum: " + ", ".join(f"{n} {t[0]:.3f}|{t[1]:.3f}" for n, t in zip(names, totals)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ref")
    ap.add_argument("data")
    ap.add_argument("--layers", default="0,1,10,20,29")
    ap.add_argument("--calib", type=int, default=32)
    ap.add_argument("--few", type=int, default=4)
    ap.add_argument("--test", type=int, default=8)
    ap.add_argument("--length", type=int, default=512)
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--compare", nargs="*", default=[],
                    help="precis intK:channel checkpoints whose weights are measured too")
    ap.add_argument("--more", action="store_true", help="also GPTQ without position 0, act-order")
    ap.add_argument("--only-compare", action="store_true",
                    help="no GPTQ here: RTN and the --compare checkpoints only, on two held-out "
                         "sets: windows spread over the validation split, and its first windows "
                         "(the tokens precis eval --max-tokens scores)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    layers = [int(x) for x in a.layers.split(",")]
    rng = np.random.default_rng(a.seed)
    train = shard_tokens(os.path.join(a.data, "train_000000.bin"))
    val = shard_tokens(os.path.join(a.data, "val_000000.bin"))
    starts = rng.integers(0, len(train) - a.length, size=a.calib)
    calib = [train[s:s + a.length] for s in starts]
    # held out: windows spread over the whole validation split (all its sources)
    vstarts = np.linspace(0, len(val) - a.length, a.test).astype(np.int64)
    test = [val[s:s + a.length] for s in vstarts]
    t0 = time.time()
    if a.only_compare:
        with tempfile.TemporaryDirectory() as tmp:
            model = load_model(a.ref, tmp)
            first = [val[i * a.length:(i + 1) * a.length] for i in range(a.test)]
            h_spread, _ = hessians(model, test, layers)
            h_first, _ = hessians(model, first, layers)
            print(f"Hessians, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
            compare_only(a, model, layers, h_spread, h_first)
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = load_model(a.ref, tmp)
        print(f"model loaded, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
        h_all, h_all_skip, h_few, _ = hessians(model, calib, layers, snapshot=a.few)
        h_test, h_test_skip = hessians(model, test, layers)
        print(f"Hessians, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
        print(f"int{a.bits}:channel; calibration {a.few} and {a.calib} train windows of {a.length}; "
              f"held out {a.test} val windows; relative output error ‖X(W−Q)ᵀ‖²/‖XWᵀ‖² on the "
              f"held-out rows (all rows | without each window's position 0)")
        heads = ["rtn", "gptq few", "gptq all"] + (["all, no pos0", "all, actord"] if a.more else [])
        heads += [os.path.basename(c)[:15] for c in a.compare]
        print(f"{'tensor':28} {'diag max/med':>12} {'pos0 share':>10} | "
              + " | ".join(f"{h:>17}" for h in heads))
        totals = {}
        for l in layers:
            mods = model.model.layers[l]
            for site, names in SITES.items():
                key = (l, site)
                d = torch.diag(h_all[key])
                share = 1 - float(torch.trace(h_all_skip[key]) / torch.trace(h_all[key]))
                for name in names:
                    w = mods.get_submodule(name).weight.detach().to(torch.float64)
                    qs = {"rtn": rtn(w, a.bits),
                          "gptq few": gptq(w, h_few[key], a.bits),
                          "gptq all": gptq(w, h_all[key], a.bits)}
                    if a.more:
                        qs["all, no pos0"] = gptq(w, h_all_skip[key], a.bits)
                        qs["all, actord"] = gptq(w, h_all[key], a.bits, act_order=True)
                    for c in a.compare:
                        qs[os.path.basename(c)[:15]] = precis_int_channel(
                            c, f"model.layers.{l}.{name}.weight", *w.shape)
                    cells = []
                    for k, q in qs.items():
                        e = [output_error(w, q, h) / output_error(w, torch.zeros_like(w), h)
                             for h in (h_test[key], h_test_skip[key])]
                        totals.setdefault(k, [0.0, 0.0])
                        totals[k][0] += e[0]
                        totals[k][1] += e[1]
                        cells.append(f"{e[0]:.2e}|{e[1]:.2e}")
                    print(f"{l:2d} {name:25} {float(d.max() / d.median()):12.1f} {share:10.3f} | "
                          + " | ".join(cells), flush=True)
        print("sum of relative errors: " + ", ".join(f"{k} {v[0]:.3f}|{v[1]:.3f}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
