// GroupQuantizer of ggml's K-quants Q4_K and Q6_K: groups are the 256-element super-blocks. fit
// runs ggml's reference quantizer on the super-block (its scale search is the whole fit) and keeps
// the stored fields: fp16 d (and dmin) and the sub-block scales (Q4_K: 8 six-bit scales and mins
// packed in 12 bytes; Q6_K: 16 int8 scales). ggml's reference then recomputes every code from
// those stored fields, which is the per-element rule here: Q4_K q = clamp(rne((x + dm)/d), 0, 15),
// x' = d·q - dm with d = d·sc_j, dm = dmin·m_j; Q6_K q = clamp(rne(x/d), -32, 31), x' = d·q with
// d = d·sc_j. A sub-block whose scale is zero keeps the codes of ggml's search; its values do not
// depend on them (d·q = ±0), except for the sign of a zero.
#include <algorithm>
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

// Sub-block j's 6-bit scale and min from Q4_K's 12 packed bytes (ggml's get_scale_min_k4).
void scale_min_k4(int j, const std::uint8_t* q, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// params, Q4_K: [0] d bits, [1] dmin bits, [2..14) the 12 scale bytes.
//         Q6_K: [0] d bits, [1..17) the 16 int8 scales.
class KQuantGroupQuantizer final : public GroupQuantizer {
 public:
  explicit KQuantGroupQuantizer(const FormatSpec& spec)
      : GroupQuantizer(spec), q4_(spec.gguf_type == GgufType::Q4_K), format_(make_format(spec)) {}

  std::int64_t group_columns(std::int64_t cols) const override {
    format_->check_shape(1, cols);
    return kQKK;
  }
  int params_per_group() const override { return q4_ ? 14 : 17; }

  void fit(const float* x, std::int64_t, float* p) const override {
    if (q4_) {
      BlockQ4_K y{};
      quantize_row_q4_K_ref(x, &y, kQKK);
      p[0] = y.d;
      p[1] = y.dmin;
      for (int i = 0; i < 12; ++i) p[2 + i] = y.scales[i];
    } else {
      BlockQ6_K y{};
      quantize_row_q6_K_ref(x, &y, kQKK);
      p[0] = y.d;
      for (int i = 0; i < 16; ++i) p[1 + i] = y.scales[i];
    }
  }

  float quantize_dequantize(const float* p, std::int64_t col, float x) const override {
    const Sub s = sub(p, static_cast<int>(col));
    return s.value(s.code(x, q4_), q4_);
  }

  void pack(const float* q, const float* params, std::int64_t rows, std::int64_t cols,
            std::byte* packed) const override {
    const std::int64_t blocks = rows * cols / kQKK;
    const int P = params_per_group();
    for (std::int64_t b = 0; b < blocks; ++b) {
      const float* p = params + b * P;
      const float* x = q + b * kQKK;
      int L[kQKK];
      for (int i = 0; i < kQKK; ++i) L[i] = sub(p, i).code(x[i], q4_) + (q4_ ? 0 : 32);
      if (q4_) {
        BlockQ4_K y{};
        y.d = static_cast<std::uint16_t>(p[0]);
        y.dmin = static_cast<std::uint16_t>(p[1]);
        for (int i = 0; i < 12; ++i) y.scales[i] = static_cast<std::uint8_t>(p[2 + i]);
        std::uint8_t* qs = y.qs;
        for (int j = 0; j < kQKK; j += 64, qs += 32)
          for (int l = 0; l < 32; ++l)
            qs[l] = static_cast<std::uint8_t>(L[j + l] | (L[j + l + 32] << 4));
        std::memcpy(packed + b * sizeof y, &y, sizeof y);
      } else {
        BlockQ6_K y{};
        y.d = static_cast<std::uint16_t>(p[0]);
        for (int i = 0; i < 16; ++i) y.scales[i] = static_cast<std::int8_t>(p[1 + i]);
        std::uint8_t* ql = y.ql;
        std::uint8_t* qh = y.qh;
        for (int j = 0; j < kQKK; j += 128, ql += 64, qh += 32) {
          for (int l = 0; l < 32; ++l) {
            ql[l] = static_cast<std::uint8_t>((L[j + l] & 0xF) | ((L[j + l + 64] & 0xF) << 4));
            ql[l + 32] =
                static_cast<std::uint8_t>((L[j + l + 32] & 0xF) | ((L[j + l + 96] & 0xF) << 4));
            qh[l] = static_cast<std::uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                              ((L[j + l + 64] >> 4) << 4) |
                                              ((L[j + l + 96] >> 4) << 6));
          }
        }
        std::memcpy(packed + b * sizeof y, &y, sizeof y);
      }
    }
  }

 private:
  // One sub-block's effective scale and offset, as ggml's dequantizers form them.
  struct Sub {
    float d = 0.0f, dm = 0.0f;
    int code(float x, bool q4) const {
      if (d == 0.0f) return 0;  // any code: the value is d·q - dm either way
      return q4 ? std::clamp(nearest_int((x + dm) / d), 0, 15)
                : std::clamp(nearest_int(x / d), -32, 31);
    }
    float value(int c, bool q4) const {
      return q4 ? d * static_cast<float>(c) - dm : d * static_cast<float>(c);
    }
  };

  Sub sub(const float* p, int col) const {
    Sub s;
    if (q4_) {
      std::uint8_t bytes[12];
      for (int i = 0; i < 12; ++i) bytes[i] = static_cast<std::uint8_t>(p[2 + i]);
      int sc, m;
      scale_min_k4(col / 32, bytes, &sc, &m);
      s.d = fp16_to_fp32(static_cast<std::uint16_t>(p[0])) * static_cast<float>(sc);
      s.dm = fp16_to_fp32(static_cast<std::uint16_t>(p[1])) * static_cast<float>(m);
    } else {
      s.d = fp16_to_fp32(static_cast<std::uint16_t>(p[0])) * p[1 + col / 16];
    }
    return s;
  }

  bool q4_;
  std::unique_ptr<Format> format_;
};

}  // namespace

std::unique_ptr<GroupQuantizer> make_kquant_group_quantizer(const FormatSpec& spec) {
  require(spec.gguf_type == GgufType::Q4_K || spec.gguf_type == GgufType::Q6_K,
          "{}: not a K-quant type precis supports (q4_k, q6_k)", spec.canonical());
  return std::make_unique<KQuantGroupQuantizer>(spec);
}

}  // namespace precis::formats
