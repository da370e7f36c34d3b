"""AdamW, gradient clipping and the schedules against torch.optim.AdamW,
torch.nn.utils.clip_grad_norm_ and an independent schedule formula, on a quadratic.

Both sides run in float32 from the same closed-form start; parameters after every step must agree
to a few float32 ulps of accumulated rounding (AdamW's update is elementwise, so the only
differences are the order of scalar products: tolerance 1e-5 absolute on O(1) values over 30
steps). The paper's ε = 1e-15 is one of the settings.
"""
import json
import math
import os
import subprocess
import sys

import torch

TOOL = os.path.join(os.environ["PRECIS_BUILD"], "tests", "adamw_tool")
N = 37


def schedule(kind, peak, warmup, total, step, min_ratio=0.1, decay_fraction=0.2):
    if step < warmup:
        return peak * (step + 1) / warmup
    lo = min_ratio * peak
    last = total - 1

    def progress(start):
        return 1.0 if last <= start else min(max((step - start) / (last - start), 0.0), 1.0)

    if kind == "constant":
        return peak
    if kind == "cosine":
        return lo + (peak - lo) * 0.5 * (1 + math.cos(math.pi * progress(warmup)))
    if kind == "linear":
        return peak - (peak - lo) * progress(warmup)
    start = max(warmup, total - round(decay_fraction * total))
    return peak if step < start else peak - (peak - lo) * progress(start)


def torch_run(steps, lr, wd, b1, b2, eps, clip, kind, warmup):
    i = torch.arange(N)
    p = ((i % 7).float() * 0.25 - 0.75).clone().requires_grad_(True)
    a = (i % 5 + 1).float() * 0.5
    c = (i % 3).float() - 1.0
    # Two views of one leaf cannot be separate param groups; use two leaves instead.
    p0 = p[:5].detach().clone().requires_grad_(True)
    p1 = p[5:].detach().clone().requires_grad_(True)
    opt = torch.optim.AdamW([{"params": [p0], "weight_decay": 0.0},
                             {"params": [p1], "weight_decay": wd}],
                            lr=lr, betas=(b1, b2), eps=eps, foreach=False)
    out = []
    for t in range(steps):
        opt.zero_grad()
        full = torch.cat([p0, p1])
        loss = 0.5 * (a * (full - c) ** 2).sum()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([p0, p1], clip if clip > 0 else float("inf"))
        step_lr = schedule(kind, lr, warmup, steps, t)
        for g in opt.param_groups:
            g["lr"] = step_lr
        opt.step()
        out.append((step_lr, float(norm), torch.cat([p0, p1]).detach().numpy().copy()))
    return out


def check(steps, lr, wd, b1, b2, eps, clip, kind, warmup):
    args = [str(x) for x in (steps, lr, wd, b1, b2, eps, clip, kind, warmup)]
    lines = subprocess.run([TOOL] + args, check=True, capture_output=True, text=True).stdout.split("\n")
    ours = [json.loads(l) for l in lines if l.strip()]
    ref = torch_run(steps, lr, wd, b1, b2, eps, clip, kind, warmup)
    assert len(ours) == len(ref) == steps
    worst = 0.0
    for t, (o, (r_lr, r_norm, r_p)) in enumerate(zip(ours, ref)):
        assert abs(o["lr"] - r_lr) <= 1e-15 * max(1.0, r_lr), (t, o["lr"], r_lr)
        assert abs(o["norm"] - r_norm) <= 1e-5 * max(1.0, r_norm), (t, o["norm"], r_norm)
        d = max(abs(x - y) for x, y in zip(o["params"], r_p.tolist()))
        worst = max(worst, d)
        assert d < 1e-5, (t, d)
    print(f"{kind:8s} lr={lr} wd={wd} betas=({b1},{b2}) eps={eps} clip={clip}: "
          f"{steps} steps, max |Δp| = {worst:.2e}")


def main():
    torch.set_num_threads(1)
    check(30, 0.05, 0.1, 0.9, 0.95, 1e-8, 1.0, "cosine", 5)
    check(30, 0.05, 0.1, 0.9, 0.95, 1e-15, 0.0, "linear", 3)  # the paper's ε, no clipping
    check(30, 0.02, 0.5, 0.8, 0.999, 1e-6, 0.5, "wsd", 4)
    check(30, 0.01, 0.0, 0.9, 0.99, 1e-8, 10.0, "constant", 0)
    print("OK")


if __name__ == "__main__":
    sys.exit(main())
