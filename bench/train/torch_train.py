"""The engine's Transformer++ in PyTorch 2.x with its fastest CPU building blocks (nn.Linear,
scaled_dot_product_attention with is_causal, fused-per-tensor AdamW), timed for training
throughput. Run by bench_train.py under PyTorch's best runtime settings; prints one JSON line.

    torch_train.py D L H T B STEPS THREADS eager|compile
"""
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(T, hd, theta=10000.0):
    inv = 1.0 / theta ** (torch.arange(0, hd, 2).float() / hd)
    f = torch.outer(torch.arange(T).float(), inv)
    emb = torch.cat([f, f], -1)
    return emb.cos(), emb.sin()


def rotate(x, cos, sin):  # HF rotate-half; x: B, H, T, hd
    h = x.shape[-1] // 2
    return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin


class Block(nn.Module):
    def __init__(self, d, H, ffn):
        super().__init__()
        self.H = H
        self.n1, self.n2 = RMSNorm(d), RMSNorm(d)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.gate_up = nn.Linear(d, 2 * ffn, bias=False)
        self.down = nn.Linear(ffn, d, bias=False)

    def forward(self, x, cos, sin):
        B, T, d = x.shape
        q, k, v = self.qkv(self.n1(x)).view(B, T, 3, self.H, d // self.H).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(rotate(q, cos, sin), rotate(k, cos, sin), v, is_causal=True)
        x = x + self.o(a.transpose(1, 2).reshape(B, T, d))
        g, u = self.gate_up(self.n2(x)).chunk(2, -1)
        return x + self.down(F.silu(g) * u)


class Model(nn.Module):
    def __init__(self, d, L, H, T, vocab=256):
        super().__init__()
        ffn = (8 * d // 3 + 31) // 32 * 32
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d, H, ffn) for _ in range(L))
        self.norm = RMSNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        cos, sin = rope_tables(T, d // H)
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)

    def forward(self, idx, targets):
        x = self.embed(idx)
        for b in self.blocks:
            x = b(x, self.cos, self.sin)
        logits = self.head(self.norm(x))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1))


def main():
    d, L, H, T, B, steps, threads = map(int, sys.argv[1:8])
    mode = sys.argv[8]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Model(d, L, H, T)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)

    fwd_bwd = model if mode == "eager" else torch.compile(model)
    g = torch.Generator().manual_seed(1)
    data = torch.randint(0, 256, (steps + 3, B, T + 1), generator=g)

    def run(i):
        opt.zero_grad(set_to_none=True)
        loss = fwd_bwd(data[i, :, :-1], data[i, :, 1:])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for i in range(3):  # warm-up (and compilation)
        run(i)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(steps):
        run(3 + i)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    tokens = steps * B * T
    print(json.dumps({"tokens_per_second": tokens / wall, "tokens_per_cpu_second": tokens / cpu,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
