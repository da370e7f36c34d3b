// GroupQuantizer of ggml's legacy block types (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1) and MXFP4: groups
// are the 32-element blocks. fit runs ggml's reference quantizer on the block (gguf/reference.hpp)
// for the stored fp16 fields and also keeps the fp32 values the reference rounds with (the
// inverse of the unrounded d, the unrounded min), so that rounding one element against them
// reproduces the reference's codes; dequantization uses the stored fp16 fields as ggml does.
// Against fixed parameters an element can fall outside the block's range (GPTQ's updates move
// weights after the block was fitted): codes are then clamped to the type's range, where ggml's
// rules (which never see such values) would wrap.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "precis/core/error.hpp"
#include "precis/formats/format.hpp"
#include "precis/formats/gguf/blocks.hpp"
#include "precis/formats/gguf/reference.hpp"
#include "precis/formats/gguf/scalar_ops.hpp"
#include "precis/formats/group_quantizer_families.hpp"
#include "precis/formats/half.hpp"

namespace precis::formats {
namespace {

using namespace gguf;

float inverse(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

// params: [0] the rounding multiplier id, [1] the fp32 min (Q4_1/Q5_1), [2] fp16 d bits,
// [3] fp16 m bits; MXFP4: [0] the E8M0 exponent byte.
class GgufGroupQuantizer final : public GroupQuantizer {
 public:
  explicit GgufGroupQuantizer(const FormatSpec& spec)
      : GroupQuantizer(spec), type_(spec.gguf_type), format_(make_format(spec)) {}

  std::int64_t group_columns(std::int64_t cols) const override {
    format_->check_shape(1, cols);
    return kQK;
  }
  int params_per_group() const override { return 4; }

  void fit(const float* x, std::int64_t, float* p) const override {
    std::fill(p, p + 4, 0.0f);
    float amax = 0.0f, signed_max = 0.0f, lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        signed_max = x[j];
      }
      lo = std::min(lo, x[j]);
      hi = std::max(hi, x[j]);
    }
    float d = 0.0f;
    switch (type_) {
      case GgufType::Q8_0:
        d = amax / 127;
        break;
      case GgufType::Q4_0:
        d = signed_max / -8;
        break;
      case GgufType::Q5_0:
        d = signed_max / -16;
        break;
      case GgufType::Q4_1:
        d = (hi - lo) / 15;
        break;
      case GgufType::Q5_1:
        d = (hi - lo) / 31;
        break;
      case GgufType::MXFP4:
        p[0] = mxfp4_exponent(amax);
        return;
      default:
        break;
    }
    p[0] = inverse(d);
    p[1] = lo;
    p[2] = fp32_to_fp16(d);
    p[3] = fp32_to_fp16(lo);
  }

  float quantize_dequantize(const float* p, std::int64_t, float x) const override {
    return value(p, code(p, x));
  }

  void pack(const float* q, const float* params, std::int64_t rows, std::int64_t cols,
            std::byte* packed) const override {
    const std::int64_t blocks = rows * cols / kQK;
    for (std::int64_t b = 0; b < blocks; ++b) {
      const float* p = params + 4 * b;
      const float* x = q + b * kQK;
      int c[kQK];
      for (int j = 0; j < kQK; ++j) c[j] = code(p, x[j]);
      write_block(p, c, packed, b);
    }
  }

 private:
  int code(const float* p, float x) const {
    const float id = p[0];
    switch (type_) {
      case GgufType::Q8_0:
        return std::clamp(cvtt_i32(std::round(x * id)), -128, 127);
      case GgufType::Q4_0:
        return std::clamp(cvtt_i32(x * id + 8.5f), 0, 15);
      case GgufType::Q5_0:
        return std::clamp(cvtt_i32(x * id + 16.5f), 0, 31);
      case GgufType::Q4_1:
        return std::clamp(cvtt_i32((x - p[1]) * id + 0.5f), 0, 15);
      case GgufType::Q5_1:
        return std::clamp(cvtt_i32((x - p[1]) * id + 0.5f), 0, 31);
      case GgufType::MXFP4: {
        // Exhaustive nearest search, the first index winning ties, as ggml's reference.
        const float d = e8m0_to_fp32_half(static_cast<std::uint8_t>(p[0]));
        int best = 0;
        float best_err = std::fabs(kMxfp4Values[0] * d - x);
        for (int i = 1; i < 16; ++i) {
          const float err = std::fabs(kMxfp4Values[i] * d - x);
          if (err < best_err) {
            best = i;
            best_err = err;
          }
        }
        return best;
      }
      default:
        return 0;
    }
  }

  float value(const float* p, int c) const {
    const float d = fp16_to_fp32(static_cast<std::uint16_t>(p[2]));
    const float m = fp16_to_fp32(static_cast<std::uint16_t>(p[3]));
    switch (type_) {
      case GgufType::Q8_0:
        return static_cast<float>(c) * d;
      case GgufType::Q4_0:
        return static_cast<float>(c - 8) * d;
      case GgufType::Q5_0:
        return static_cast<float>(c - 16) * d;
      case GgufType::Q4_1:
      case GgufType::Q5_1:
        return static_cast<float>(c) * d + m;
      case GgufType::MXFP4:
        return kMxfp4Values[c] * e8m0_to_fp32_half(static_cast<std::uint8_t>(p[0]));
      default:
        return 0.0f;
    }
  }

  // Nibbles: element j low, j + 16 high; fifth bits in the little-endian qh word.
  static void nibbles(const int* c, std::uint8_t* qs, std::uint8_t* qh) {
    std::uint32_t h = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      qs[j] = static_cast<std::uint8_t>((c[j] & 0x0F) | ((c[j + kQK / 2] & 0x0F) << 4));
      h |= ((static_cast<std::uint32_t>(c[j]) & 0x10u) >> 4) << j;
      h |= ((static_cast<std::uint32_t>(c[j + kQK / 2]) & 0x10u) >> 4) << (j + kQK / 2);
    }
    if (qh) std::memcpy(qh, &h, 4);
  }

  void write_block(const float* p, const int* c, std::byte* packed, std::int64_t b) const {
    const auto d = static_cast<std::uint16_t>(p[2]);
    const auto m = static_cast<std::uint16_t>(p[3]);
    auto put = [&](auto block) { std::memcpy(packed + b * sizeof(block), &block, sizeof(block)); };
    switch (type_) {
      case GgufType::Q8_0: {
        BlockQ8_0 y{d, {}};
        for (int j = 0; j < kQK; ++j) y.qs[j] = static_cast<std::int8_t>(c[j]);
        return put(y);
      }
      case GgufType::Q4_0: {
        BlockQ4_0 y{d, {}};
        nibbles(c, y.qs, nullptr);
        return put(y);
      }
      case GgufType::Q4_1: {
        BlockQ4_1 y{d, m, {}};
        nibbles(c, y.qs, nullptr);
        return put(y);
      }
      case GgufType::Q5_0: {
        BlockQ5_0 y{d, {}, {}};
        nibbles(c, y.qs, y.qh);
        return put(y);
      }
      case GgufType::Q5_1: {
        BlockQ5_1 y{d, m, {}, {}};
        nibbles(c, y.qs, y.qh);
        return put(y);
      }
      case GgufType::MXFP4: {
        BlockMxfp4 y{static_cast<std::uint8_t>(p[0]), {}};
        nibbles(c, y.qs, nullptr);
        return put(y);
      }
      default:
        return;
    }
  }

  GgufType type_;
  std::unique_ptr<Format> format_;
};

}  // namespace

std::unique_ptr<GroupQuantizer> make_gguf_group_quantizer(const FormatSpec& spec) {
  switch (spec.gguf_type) {
    case GgufType::Q8_0:
    case GgufType::Q4_0:
    case GgufType::Q4_1:
    case GgufType::Q5_0:
    case GgufType::Q5_1:
    case GgufType::MXFP4:
      return std::make_unique<GgufGroupQuantizer>(spec);
    case GgufType::Q4_K:
    case GgufType::Q6_K:
      return make_kquant_group_quantizer(spec);
    default:
      break;
  }
  fail(
      "{}: GPTQ and AWQ need a block type with explicit parameters (q8_0, q4_0, q4_1, q5_0, "
      "q5_1, mxfp4, q4_k, q6_k); f32/f16/bf16 are casts: use fp16 or bf16 instead",
      spec.canonical());
}

}  // namespace precis::formats
