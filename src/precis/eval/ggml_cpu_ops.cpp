#include "precis/eval/ggml_cpu_ops.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "precis/core/cpu_features.hpp"
#include "precis/core/error.hpp"
#include "precis/formats/half.hpp"
#include "precis/io/gguf_tensor_type.hpp"

namespace precis::eval::ggml {
namespace {

using formats::GgufType;

float h2f(const std::byte* p) {
  std::uint16_t h;
  std::memcpy(&h, p, 2);
  return formats::fp16_to_fp32(h);
}

float u2f(std::uint32_t u) { return std::bit_cast<float>(u); }
std::uint32_t f2u(float f) { return std::bit_cast<std::uint32_t>(f); }

// ggml_v_expf, AVX2+FMA (vec.h).
float expf_avx2(float x) {
  const float r = 0x1.8p23f;
  const float z = std::fma(x, 0x1.715476p+0f, r);
  const float n = z - r;
  const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
  const std::uint32_t e = f2u(z) << 23;
  const float k = u2f(e + f2u(1.0f));
  const bool c = std::fabs(n) > 126.0f;
  const float u = b * b;
  const float j = std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                    std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                           u, 0x1.ffffecp-1f * b);
  if (!c) return std::fma(k, j, k);
  const std::uint32_t g = n <= 0.0f ? 0x82000000u : 0u;
  const float s1 = u2f(g + 0x7f000000u);
  const float s2 = u2f(e - g);
  if (std::fabs(n) > 192.0f) return s1 * s1;
  return std::fma(s2, j, s2) * s1;
}

// ggml_v_expf, AVX-512 F+DQ (vec.h).
float expf_avx512(float x) {
  const float r = 0x1.8p23f;
  const float z = std::fma(x, 0x1.715476p+0f, r);
  const float n = z - r;
  const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
  const float u = b * b;
  const float j = std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                    std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                           u, std::fma(0x1.ffffecp-1f, b, 1.0f));
  if (std::fabs(n) > 192.0f) return n <= 0.0f ? 0.0f : std::numeric_limits<float>::infinity();
  // _mm512_scalef_ps(j, n): j · 2^floor(n); n is already an integer here.
  return std::ldexp(j, static_cast<int>(n));
}

// The 32 weight codes of a block as the kernels see them (Q4_0 / Q5_0 centred, Q4_1 / Q5_1 not).
void block_codes(GgufType type, const std::byte* blk, int w[32]) {
  auto u8 = [&](std::size_t i) { return std::to_integer<int>(blk[i]); };
  switch (type) {
    case GgufType::Q8_0:
      for (int e = 0; e < 32; ++e) w[e] = static_cast<std::int8_t>(u8(2 + e));
      return;
    case GgufType::Q4_0:
      for (int e = 0; e < 16; ++e) {
        w[e] = (u8(2 + e) & 0xF) - 8;
        w[e + 16] = (u8(2 + e) >> 4) - 8;
      }
      return;
    case GgufType::Q4_1:
      for (int e = 0; e < 16; ++e) {
        w[e] = u8(4 + e) & 0xF;
        w[e + 16] = u8(4 + e) >> 4;
      }
      return;
    case GgufType::Q5_0:
    case GgufType::Q5_1: {
      const std::size_t qh_at = type == GgufType::Q5_0 ? 2 : 4, qs_at = qh_at + 4;
      std::uint32_t qh;
      std::memcpy(&qh, blk + qh_at, 4);
      const int centre = type == GgufType::Q5_0 ? 16 : 0;
      for (int e = 0; e < 16; ++e) {
        w[e] = ((u8(qs_at + e) & 0xF) | static_cast<int>(((qh >> e) & 1u) << 4)) - centre;
        w[e + 16] =
            ((u8(qs_at + e) >> 4) | static_cast<int>(((qh >> (e + 16)) & 1u) << 4)) - centre;
      }
      return;
    }
    default:
      fail("internal error: no block codes for ggml type {}", static_cast<int>(type));
  }
}

bool followed(GgufType t) {
  switch (t) {
    case GgufType::F32:
    case GgufType::F16:
    case GgufType::Q8_0:
    case GgufType::Q4_0:
    case GgufType::Q4_1:
    case GgufType::Q5_0:
    case GgufType::Q5_1:
      return true;
    default:
      return false;
  }
}

std::size_t block_bytes(GgufType type) { return io::ggml_type_layout(type)->type_size; }

}  // namespace

Isa host_isa() {
  const CpuFeatures f = detect_cpu_features();
  // PRECIS_ISA=avx2 (core/cpu_features.hpp) caps precis's own kernels; it also selects the 8-lane
  // variant here, which is how that variant is checked beside an AVX2-only llama.cpp build on an
  // AVX-512 machine.
  const bool capped = best_isa() != precis::Isa::Avx512;
  return f.avx512f && f.avx512dq && !capped ? Isa::Avx512 : Isa::Avx2;
}

const char* to_string(Isa isa) { return isa == Isa::Avx512 ? "AVX-512" : "AVX2"; }

int f32_lanes(Isa isa) { return isa == Isa::Avx512 ? 16 : 8; }

float hsum8(const float a[8]) {
  float r[4];
  for (int i = 0; i < 4; ++i) r[i] = a[i + 4] + a[i];
  return (r[0] + r[2]) + (r[1] + r[3]);
}

float hsum16(const float a[16]) {
  float b[8], c[4];
  for (int i = 0; i < 8; ++i) b[i] = a[i + 8] + a[i];
  for (int i = 0; i < 4; ++i) c[i] = b[i + 4] + b[i];
  return (c[0] + c[2]) + (c[1] + c[3]);
}

namespace {
float hsum(Isa isa, const float* a) { return isa == Isa::Avx512 ? hsum16(a) : hsum8(a); }
}  // namespace

float vec_dot_f32(Isa isa, std::int64_t n, const float* x, const float* y) {
  const int W = f32_lanes(isa), step = 4 * W;
  const std::int64_t np = n & ~static_cast<std::int64_t>(step - 1);
  float acc[4][16] = {};
  for (std::int64_t i = 0; i < np; i += step)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < W; ++l)
        acc[j][l] = std::fma(x[i + j * W + l], y[i + j * W + l], acc[j][l]);
  for (int l = 0; l < W; ++l) {
    acc[0][l] = acc[0][l] + acc[2][l];
    acc[1][l] = acc[1][l] + acc[3][l];
  }
  for (int l = 0; l < W; ++l) acc[0][l] = acc[0][l] + acc[1][l];
  float sum;
  if (isa == Isa::Avx512) {
    sum = hsum16(acc[0]);
  } else {
    // _mm_hadd_ps twice on lo + hi: (t0 + t1) + (t2 + t3).
    float t[4];
    for (int i = 0; i < 4; ++i) t[i] = acc[0][i] + acc[0][i + 4];
    sum = (t[0] + t[1]) + (t[2] + t[3]);
  }
  // The leftover loop `sumf += x[i]*y[i]` as GCC 12 -O3 builds it (objdump of the venv's
  // libggml-cpu.so): vectorized as an in-order reduction, the products of whole groups of 16 (then
  // one of 8) rounded before each add, and only the last n % 8 fused.
  std::int64_t i = np;
  const std::int64_t c = n - np;
  std::int64_t unfused = c >= 16 ? c / 16 * 16 : 0;
  if (c - unfused >= 8) unfused += 8;
  for (; i < np + unfused; ++i) sum = sum + x[i] * y[i];
  for (; i < n; ++i) sum = std::fma(x[i], y[i], sum);
  return sum;
}

float tinyblas_dot_f32(Isa isa, std::int64_t k, const float* a, const float* b) {
  const int W = f32_lanes(isa);
  float acc[16] = {};
  for (std::int64_t l = 0; l < k; l += W)
    for (int i = 0; i < W; ++i) acc[i] = std::fma(a[l + i], b[l + i], acc[i]);
  return hsum(isa, acc);
}

bool tinyblas_f32_applies(Isa isa, std::int64_t m, std::int64_t n, std::int64_t k) {
  return n >= 2 && k % f32_lanes(isa) == 0 && m % 4 == 0;
}

float v_expf(Isa isa, float x) { return isa == Isa::Avx512 ? expf_avx512(x) : expf_avx2(x); }

float v_silu(Isa isa, float x) { return x / (1.0f + v_expf(isa, 0.0f - x)); }

void vec_swiglu(Isa isa, std::int64_t n, float* y, const float* x, const float* g) {
  const std::int64_t W = f32_lanes(isa), whole = n - n % W;
  for (std::int64_t i = 0; i < whole; ++i) y[i] = v_silu(isa, x[i]) * g[i];
  for (std::int64_t i = whole; i < n; ++i) y[i] = x[i] / (1.0f + std::exp(-x[i])) * g[i];
}

void rms_norm_mul(std::int64_t n, const float* x, const float* w, float eps, float* y) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
}

void soft_max_row(Isa isa, std::int64_t valid, const float* kq, float scale, float* p) {
  const int W = f32_lanes(isa);
  float max = -std::numeric_limits<float>::infinity();
  for (std::int64_t j = 0; j < valid; ++j) max = std::max(max, kq[j] * scale);
  double sum = 0.0;
  float lanes[16];
  for (std::int64_t j0 = 0; j0 < valid; j0 += W) {
    for (int l = 0; l < W; ++l) {
      const std::int64_t j = j0 + l;
      // A masked entry is −inf − max: v_expf gives 0 for it.
      lanes[l] = j < valid ? v_expf(isa, kq[j] * scale - max) : 0.0f;
      if (j < valid) p[j] = lanes[l];
    }
    sum += static_cast<double>(hsum(isa, lanes));
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (std::int64_t j = 0; j < valid; ++j) p[j] *= inv;
}

void rope_cache(std::int64_t pos, std::int64_t n_dims, float freq_base, float* cache) {
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_dims));
  float theta = static_cast<float>(pos);
  for (std::int64_t i0 = 0; i0 < n_dims; i0 += 2) {
    cache[i0] = std::cos(theta);
    cache[i0 + 1] = std::sin(theta);
    theta *= theta_scale;
  }
}

void rope_rotate(std::int64_t n_dims, const float* cache, float* x) {
  for (std::int64_t i0 = 0; i0 < n_dims; i0 += 2) {
    const float c = cache[i0], s = cache[i0 + 1];
    const float x0 = x[i0], x1 = x[i0 + 1];
    // GCC contracts the first product of each expression into an fma with the second's
    // rounded product (checked bit for bit against llama.cpp's RoPE output).
    x[i0] = std::fma(x0, c, -(x1 * s));
    x[i0 + 1] = std::fma(x0, s, x1 * c);
  }
}

bool quantize_q8(std::int64_t n, const float* x, Q8Block* blocks) {
  for (std::int64_t b = 0; b < n / 32; ++b) {
    const float* v = x + b * 32;
    float amax = 0.0f;
    bool finite = true;
    for (int j = 0; j < 32; ++j) {
      finite = finite && std::isfinite(v[j]);
      amax = std::max(amax, std::fabs(v[j]));
    }
    if (!finite) return false;  // the codes of a NaN or Inf are undefined (ggml converts anyway)
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    Q8Block& out = blocks[b];
    out.d = formats::fp32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
      // std::nearbyint rounds half to even in the default mode, as _mm256_round_ps does.
      const int q = static_cast<int>(std::nearbyint(v[j] * id));
      out.q[j] = static_cast<std::int8_t>(q);
      sum += q;
    }
    out.s = formats::fp32_to_fp16(d * static_cast<float>(sum));
  }
  return true;
}

void decode_row(GgufType type, std::int64_t n, const std::byte* row, DecodedRow& out) {
  const std::size_t bb = block_bytes(type);
  const std::int64_t nb = n / 32;
  out.q.resize(static_cast<std::size_t>(n));
  out.d.resize(static_cast<std::size_t>(nb));
  out.m.assign(static_cast<std::size_t>(nb), 0.0f);
  const bool has_min = type == GgufType::Q4_1 || type == GgufType::Q5_1;
  int w[32];
  for (std::int64_t b = 0; b < nb; ++b) {
    const std::byte* blk = row + b * bb;
    block_codes(type, blk, w);
    for (int e = 0; e < 32; ++e) out.q[b * 32 + e] = static_cast<std::int8_t>(w[e]);
    out.d[b] = h2f(blk);
    if (has_min) out.m[b] = h2f(blk + 2);
  }
}

float dot_quantized(DotKernel kernel, std::int64_t n, const DecodedRow& w, const Q8Block* act) {
  const std::int64_t nb = n / 32;
  if (kernel == DotKernel::Q4_0Repacked) {
    float acc = 0.0f;
    for (std::int64_t b = 0; b < nb; ++b) {
      const std::int8_t* wq = w.q.data() + b * 32;
      int s = 0;
      for (int e = 0; e < 32; ++e) s += wq[e] * act[b].q[e];
      acc = std::fma(static_cast<float>(s), w.d[b] * formats::fp16_to_fp32(act[b].d), acc);
    }
    return acc;
  }
  float acc[8] = {};
  float summs = 0.0f;
  for (std::int64_t b = 0; b < nb; ++b) {
    const std::int8_t* wq = w.q.data() + b * 32;
    int prod[32];
    for (int e = 0; e < 32; ++e) prod[e] = wq[e] * act[b].q[e];
    const float d = w.d[b] * formats::fp16_to_fp32(act[b].d);
    // Lane t: elements 4t..4t+3 summed as integers (maddubs + madd, or dpbusd).
    for (int t = 0; t < 8; ++t) {
      const int lane = (prod[4 * t] + prod[4 * t + 1]) + (prod[4 * t + 2] + prod[4 * t + 3]);
      acc[t] = std::fma(d, static_cast<float>(lane), acc[t]);
    }
    if (kernel == DotKernel::Q1Lanes)
      summs = std::fma(w.m[b], formats::fp16_to_fp32(act[b].s), summs);
  }
  return kernel == DotKernel::Q1Lanes ? hsum8(acc) + summs : hsum8(acc);
}

std::size_t row_bytes(GgufType type, std::int64_t n) {
  require(followed(type),
          "llama.cpp's arithmetic is followed for F32, F16, Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 "
          "weights; ggml type {} is not among them",
          io::ggml_type_name(type));
  const io::GgmlTypeLayout layout = *io::ggml_type_layout(type);
  return static_cast<std::size_t>(n / layout.block_size) * layout.type_size;
}

void dequantize_row(GgufType type, std::int64_t n, const std::byte* row, float* out) {
  if (type == GgufType::F32) {
    std::memcpy(out, row, static_cast<std::size_t>(n) * 4);
    return;
  }
  if (type == GgufType::F16) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = h2f(row + 2 * i);
    return;
  }
  const std::size_t bb = row_bytes(type, 32);
  int w[32];
  for (std::int64_t b = 0; b < n / 32; ++b) {
    const std::byte* blk = row + b * bb;
    block_codes(type, blk, w);
    const float d = h2f(blk);
    const bool has_min = type == GgufType::Q4_1 || type == GgufType::Q5_1;
    const float m = has_min ? h2f(blk + 2) : 0.0f;
    // q · d is exact in fp32, so fused or not the sum rounds once.
    for (int e = 0; e < 32; ++e)
      out[b * 32 + e] = has_min ? static_cast<float>(w[e]) * d + m : static_cast<float>(w[e]) * d;
  }
}

}  // namespace precis::eval::ggml
