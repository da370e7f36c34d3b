"""GPTQ against an independent GPTQ written here in numpy (float64).

The oracle is the algorithm of Frantar et al. without lazy batching (each column's error update is
applied to every later column at once, which is what the blocked form computes), with the
reference's H = (2/n) XᵀX, dead-input handling, damping, act-order (stable by decreasing diag H),
groups fitted from the current weights at each group's first column (in processing order) or
from the original weights ("static groups"), and H⁻¹'s upper Cholesky factor from
chol(inv(H)). The quantizer is the catalogue's integer format: scale and zero point computed in
float32 exactly as formats.md defines them, then q = clamp(rne(x·(1/scale)) + zero), x' = (q - zero)
·scale, all in float32.

Tolerance. precis is run in fp64 for the exact comparison: the two programs then differ only by
fp64 rounding (~1e-16 relative, times the conditioning of the damped H, < 1e4 here), far below
float32's resolution, so every rounding decision agrees unless a value sits within ~1e-12 of a
rounding boundary (probability ~1e-9 per element). The assertion is therefore equality of every
element up to 8 float32 ulps of the group's scale-sized values, and no element may differ by a
quantization step. The fp32 run is compared statistically: float32 rounding (~1e-7 relative)
flips the decisions of values that sit that close to a boundary and the flip propagates along
its row, so the check is the objective GPTQ minimises, ||X(W-Q)ᵀ||², within 1% of the oracle's.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

BUILD = os.environ["PRECIS_BUILD"]
TOOL = os.path.join(BUILD, "tests", "ptq_tool")


def int_fit(x32, bits, asym):
    x32 = x32.astype(np.float32)
    if asym:
        lo = np.minimum(x32.min(axis=1), np.float32(0))
        hi = np.maximum(x32.max(axis=1), np.float32(0))
        qmin, qmax = np.float32(0), np.float32(2**bits - 1)
        scale = np.where(hi > lo, (hi - lo) / qmax, np.float32(1)).astype(np.float32)
        inv = (np.float32(1) / scale).astype(np.float32)
        zero = np.rint(-lo * inv).astype(np.float32)
    else:
        amax = np.abs(x32).max(axis=1)
        qmin, qmax = np.float32(-(2 ** (bits - 1))), np.float32(2 ** (bits - 1) - 1)
        scale = np.where(amax > 0, amax / qmax, np.float32(1)).astype(np.float32)
        inv = (np.float32(1) / scale).astype(np.float32)
        zero = np.zeros_like(scale)
    return scale, inv, zero, qmin, qmax


def oracle_gptq(W, X, bits, asym, group, act_order, static_groups, damp):
    rows, cols = W.shape
    g = cols if group is None else group
    W = W.astype(np.float64).copy()
    Xd = X.astype(np.float64)
    H = 2.0 / X.shape[0] * (Xd.T @ Xd)
    dead = np.diag(H) == 0
    H[dead, dead] = 1.0
    W[:, dead] = 0.0
    groups = None
    if static_groups:
        groups = [int_fit(W[:, k * g:(k + 1) * g], bits, asym) for k in range(cols // g)]
    perm = np.argsort(-np.diag(H), kind="stable") if act_order else np.arange(cols)
    W = W[:, perm]
    H = H[perm][:, perm]
    H[np.diag_indices(cols)] += damp * np.mean(np.diag(H))
    U = np.linalg.cholesky(np.linalg.inv(H)).T  # upper: Uᵀ U = H⁻¹
    Q = np.zeros((rows, cols), np.float32)
    p = None
    for i in range(cols):
        if static_groups:
            p = groups[perm[i] // g]
        elif i % g == 0:
            p = int_fit(W[:, i:i + g], bits, asym)
        q = int_qd_col(W[:, i], p)
        Q[:, i] = q
        e = (W[:, i] - q.astype(np.float64)) / U[i, i]
        W[:, i + 1:] -= np.outer(e, U[i, i + 1:])
    return Q[:, np.argsort(perm)]


def int_qd_col(col, p):
    scale, inv, zero, qmin, qmax = p
    x = col.astype(np.float32)
    q = np.clip(np.rint(x * inv) + zero, qmin, qmax).astype(np.float32)
    return ((q - zero) * scale).astype(np.float32)


def run_tool(args, W, X, tmp):
    wp, xp, qp = (os.path.join(tmp, n) for n in ("w.f32", "x.f32", "q.f32"))
    W.astype("<f4").tofile(wp)
    X.astype("<f4").tofile(xp)
    cmd = [TOOL, "gptq", "--w", wp, "--x", xp, "--out", qp, "--rows", str(W.shape[0]),
           "--cols", str(W.shape[1]), "--n", str(X.shape[0])] + args
    subprocess.run(cmd, check=True)
    return np.fromfile(qp, "<f4").reshape(W.shape)


def layer(rng, rows, cols, n, dead=()):
    # Correlated inputs with uneven scales, like a real layer's activations.
    Z = rng.standard_normal((n, cols))
    A = rng.standard_normal((cols, cols)) / np.sqrt(cols) + np.eye(cols)
    X = (Z @ A) * rng.uniform(0.2, 3.0, cols)
    X[:, list(dead)] = 0.0
    W = rng.standard_normal((rows, cols)) * 0.05
    return W.astype(np.float32), X.astype(np.float32)


CASES = [  # (name, bits, asym, group, act_order, static_groups, block, cols, dead)
    ("int4 channel", 4, False, None, False, False, 128, 256, ()),
    ("int4 g64 asym", 4, True, 64, False, False, 128, 256, (3, 77)),
    ("int3 g96 asym act-order (groups straddle blocks)", 3, True, 96, True, False, 128, 384, ()),
    ("int4 g128 act-order static", 4, False, 128, True, True, 128, 256, (5,)),
    ("int4 g96 static, block 32", 4, False, 96, False, True, 32, 192, ()),
    ("int4 channel act-order, block 48", 4, True, None, True, False, 48, 200, ()),
]


def spec_of(bits, asym, group):
    return f"int{bits}:" + ("channel" if group is None else f"g{group}") + (":asym" if asym else "")


def main():
    rng = np.random.default_rng(20250101)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, bits, asym, group, act, static, block, cols, dead in CASES:
            W, X = layer(rng, 40, cols, 600, dead)
            args = ["--format", spec_of(bits, asym, group), "--damp", "0.01", "--block", str(block)]
            args += (["--act-order"] if act else []) + (["--static-groups"] if static else [])
            ref = oracle_gptq(W, X, bits, asym, group, act, static, 0.01)
            got = run_tool(args, W, X, tmp)
            diff = np.abs(got - ref)
            tol = 8 * np.finfo(np.float32).eps * np.abs(ref).max()
            bad = int((diff > tol).sum())
            got32 = run_tool(args + ["--fp32", "--threads", "2"], W, X, tmp)
            Xd = X.astype(np.float64)
            err = lambda Q: float(np.linalg.norm(Xd @ (W.astype(np.float64) - Q).T) ** 2)
            e_ref, e_32 = err(ref), err(got32)
            rtn_like = err(oracle_rtn(W, bits, asym, group))
            ok = bad == 0 and abs(e_32 - e_ref) <= 0.01 * e_ref
            print(f"{name}: fp64 max|dQ|={diff.max():.3g} (tol {tol:.3g}), elements off={bad}; "
                  f"output err oracle={e_ref:.6g} fp32={e_32:.6g} (rtn {rtn_like:.6g}); "
                  f"fp32 elements differing={(np.abs(got32 - ref) > tol).mean():.4f} "
                  f"{'OK' if ok else 'FAIL'}")
            failures += not ok
    sys.exit(1 if failures else 0)


def oracle_rtn(W, bits, asym, group):
    rows, cols = W.shape
    g = cols if group is None else group
    Q = np.zeros_like(W)
    for k in range(cols // g):
        blk = W[:, k * g:(k + 1) * g]
        scale, inv, zero, qmin, qmax = int_fit(blk, bits, asym)
        q = np.clip(np.rint(blk * inv[:, None]) + zero[:, None], qmin, qmax)
        Q[:, k * g:(k + 1) * g] = (q - zero[:, None]) * scale[:, None]
    return Q


if __name__ == "__main__":
    main()
