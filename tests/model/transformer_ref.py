"""A reference Transformer++ in PyTorch, written from the maths (HF Llama conventions), for the
engine's oracle tests. Weights are a dict of HF names -> tensors (out, in); `dtype` sets the
arithmetic (float64 for a near-exact reference, float32 for PyTorch's own fp32 error).

Precision policy as straight-through fake quantization, x + (q(x) - x).detach(), with the integer
absmax quantizer of the formats catalogue: scale = amax / qmax, q = clamp(round(x · (1/scale)),
-2^(k-1), 2^(k-1) - 1) · scale, round half to even.
"""
import math

import torch


def int_fake_quant(x, bits, reduce_dims):
    qmax = 2 ** (bits - 1) - 1
    qmin = -(2 ** (bits - 1))
    if reduce_dims is None:
        amax = x.detach().abs().max()
    else:
        amax = x.detach().abs().amax(dim=reduce_dims, keepdim=True)
    scale = amax / qmax
    inv = torch.where(scale > 0, 1.0 / scale, torch.zeros_like(scale))
    q = torch.clamp(torch.round(x.detach() * inv), qmin, qmax) * scale
    return x + (q - x).detach()


def _bf(x):
    return x.to(torch.bfloat16).to(x.dtype)


class _Bf16Linear(torch.autograd.Function):
    """y = bf16(x) · bf16(w)ᵀ; backward rounds the incoming gradient too: dx = bf16(dy) · bf16(w),
    dw = bf16(dy)ᵀ · bf16(x). Products accumulate in the working dtype. Rounding is straight-
    through: the gradients are those of the rounded operands, passed on unchanged."""

    @staticmethod
    def forward(ctx, x, w):
        xr, wr = _bf(x), _bf(w)
        ctx.save_for_backward(xr, wr)
        return xr @ wr.T

    @staticmethod
    def backward(ctx, dy):
        xr, wr = ctx.saved_tensors
        g = _bf(dy)
        return g @ wr, (g.reshape(-1, g.shape[-1]).T @ xr.reshape(-1, xr.shape[-1]))


class Policy:
    def __init__(self, w_bits=None, a_bits=None, kv_bits=None, bf16=False, quantize_head=True):
        self.w_bits, self.a_bits, self.kv_bits = w_bits, a_bits, kv_bits
        self.bf16, self.quantize_head = bf16, quantize_head

    def weight(self, w, head=False):
        if self.w_bits and (not head or self.quantize_head):
            w = int_fake_quant(w, self.w_bits, -1)  # per output channel
        return w

    def act(self, x, head=False):
        if self.a_bits and (not head or self.quantize_head):
            x = int_fake_quant(x, self.a_bits, None)  # per tensor
        return x

    def linear(self, x, w, head=False):
        x, w = self.act(x, head), self.weight(w, head)
        return _Bf16Linear.apply(x, w) if self.bf16 else x @ w.T

    def kv(self, x):  # x: B, T, heads, head_dim
        return int_fake_quant(x, self.kv_bits, -1) if self.kv_bits else x  # per head


def rmsnorm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope(x, T, theta):  # x: B, T, heads, hd; HF rotate-half
    hd = x.shape[-1]
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq[None, :]
    cos = torch.cat([ang.cos(), ang.cos()], -1).to(x.dtype)[None, :, None, :]
    sin = torch.cat([ang.sin(), ang.sin()], -1).to(x.dtype)[None, :, None, :]
    x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def forward(cfg, W, inputs, targets, policy):
    """Returns (logits B×T×V, mean cross-entropy)."""
    B, T = inputs.shape
    d, H, Hkv = cfg["d_model"], cfg["n_heads"], cfg["n_kv_heads"]
    hd, eps = d // H, cfg["rms_eps"]
    lin = lambda x, name: policy.linear(x, W[name])
    x = W["model.embed_tokens.weight"][inputs]
    for l in range(cfg["n_layers"]):
        p = f"model.layers.{l}."
        h = rmsnorm(x, W[p + "input_layernorm.weight"], eps)
        q = lin(h, p + "self_attn.q_proj.weight").view(B, T, H, hd)
        k = lin(h, p + "self_attn.k_proj.weight").view(B, T, Hkv, hd)
        v = lin(h, p + "self_attn.v_proj.weight").view(B, T, Hkv, hd)
        q, k = rope(q, T, cfg["rope_theta"]), rope(k, T, cfg["rope_theta"])
        k, v = policy.kv(k), policy.kv(v)
        k = k.repeat_interleave(H // Hkv, dim=2)
        v = v.repeat_interleave(H // Hkv, dim=2)
        s = torch.einsum("bihd,bjhd->bhij", q, k) / math.sqrt(hd)
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        a = torch.einsum("bhij,bjhd->bihd", s.masked_fill(mask, float("-inf")).softmax(-1), v)
        a = a.reshape(B, T, H * hd)
        if cfg["extra_norm"]:
            a = rmsnorm(a, W[p + "self_attn.o_norm.weight"], eps)
        x = x + lin(a, p + "self_attn.o_proj.weight")
        h = rmsnorm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = lin(h, p + "mlp.gate_proj.weight")
        u = lin(h, p + "mlp.up_proj.weight")
        m = torch.nn.functional.silu(g) * u
        if cfg["extra_norm"]:
            m = rmsnorm(m, W[p + "mlp.down_norm.weight"], eps)
        x = x + lin(m, p + "mlp.down_proj.weight")
    x = rmsnorm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tied_head"] else W["lm_head.weight"]
    logits = policy.linear(x, head, head=True)
    loss = torch.nn.functional.cross_entropy(logits.reshape(B * T, -1), targets.reshape(-1))
    return logits, loss


def init_weights(cfg, names_shapes, seed):
    """Random weights that exercise every path: matrices N(0, 0.1²), gains 1 + N(0, 0.1²)."""
    g = torch.Generator().manual_seed(seed)
    W = {}
    for name, shape in names_shapes:
        if len(shape) == 1:
            W[name] = 1.0 + 0.1 * torch.randn(shape, generator=g)
        else:
            W[name] = 0.1 * torch.randn(shape, generator=g)
    return W


def layout(cfg):
    """HF names and shapes in the engine's arena order (layout.cpp)."""
    d, V, H, Hkv, F = cfg["d_model"], cfg["vocab_size"], cfg["n_heads"], cfg["n_kv_heads"], cfg["ffn_hidden"]
    hd = d // H
    out = [("model.embed_tokens.weight", (V, d))]
    for l in range(cfg["n_layers"]):
        p = f"model.layers.{l}."
        out += [(p + "input_layernorm.weight", (d,)), (p + "self_attn.q_proj.weight", (H * hd, d)),
                (p + "self_attn.k_proj.weight", (Hkv * hd, d)), (p + "self_attn.v_proj.weight", (Hkv * hd, d))]
        if cfg["extra_norm"]:
            out.append((p + "self_attn.o_norm.weight", (H * hd,)))
        out += [(p + "self_attn.o_proj.weight", (d, H * hd)), (p + "post_attention_layernorm.weight", (d,)),
                (p + "mlp.gate_proj.weight", (F, d)), (p + "mlp.up_proj.weight", (F, d))]
        if cfg["extra_norm"]:
            out.append((p + "mlp.down_norm.weight", (F,)))
        out.append((p + "mlp.down_proj.weight", (d, F)))
    out.append(("model.norm.weight", (d,)))
    if not cfg["tied_head"]:
        out.append(("lm_head.weight", (V, d)))
    return out
