#include "precis/eval/llama_cpp_rounding.hpp"

#include <algorithm>
#include <atomic>
#include <cfenv>
#include <cmath>

#include "precis/core/error.hpp"
#include "precis/core/threads.hpp"
#include "precis/formats/format.hpp"
#include "precis/formats/half.hpp"

namespace precis::eval {
namespace {

using formats::GgufType;

void require_finite(float amax) {
  require(std::isfinite(amax),
          "an activation is not finite; llama.cpp's q8 rounding is defined only for finite values");
}

// fp16 / bf16 casts: a catalogue format.
class CastRounding final : public model::LinearInputRounding {
 public:
  explicit CastRounding(const char* spec)
      : format_(formats::make_format(formats::parse_format(spec))) {}
  void check_shape(std::int64_t rows, std::int64_t cols) const override {
    format_->check_shape(rows, cols);
  }
  void round(float* x, std::int64_t rows, std::int64_t cols) override {
    format_->fake_quant(x, rows, cols);
  }

 private:
  std::unique_ptr<formats::Format> format_;
};

class Q8Block32Rounding final : public model::LinearInputRounding {
 public:
  Q8Block32Rounding(std::vector<float> minima, int threads)
      : minima_(std::move(minima)), threads_(threads) {}

  void check_shape(std::int64_t rows, std::int64_t cols) const override {
    require(rows >= 0 && cols % 32 == 0,
            "llama.cpp rounds a product's input in q8 blocks of 32, but the rows hold {} values",
            cols);
  }

  void round(float* x, std::int64_t rows, std::int64_t cols) override {
    check_shape(rows, cols);
    // std::nearbyint rounds half to even in the default mode, as _mm256_round_ps does.
    require(std::fegetround() == FE_TONEAREST, "the FPU rounding mode is not round-to-nearest");
    const std::int64_t nb = cols / 32;
    rows_ = rows;
    nb_ = nb;
    if (!minima_.empty()) sum_gap_.assign(static_cast<std::size_t>(rows * nb), 0.0f);
    // No exception may leave the parallel region: a non-finite block is reported after it.
    std::atomic<bool> finite{true};
    parallel_for(0, rows * nb, threads_, [&](std::int64_t b) {
      float* v = x + b * 32;
      float amax = 0.0f;
      bool ok = true;
      for (int j = 0; j < 32; ++j) {
        ok = ok && std::isfinite(v[j]);
        amax = std::max(amax, std::fabs(v[j]));
      }
      if (!ok) {
        finite = false;
        return;
      }
      const float d_exact = amax / 127.0f;
      const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
      const float d = formats::fp16_to_fp32(formats::fp32_to_fp16(d_exact));
      int sum = 0;
      for (int j = 0; j < 32; ++j) {
        const float q = std::nearbyint(v[j] * id);
        sum += static_cast<int>(q);
        v[j] = d * q;
      }
      if (!minima_.empty()) {
        // What the kernel multiplies the minimum by, less what the rounded input sums to.
        const float s =
            formats::fp16_to_fp32(formats::fp32_to_fp16(d_exact * static_cast<float>(sum)));
        sum_gap_[static_cast<std::size_t>(b)] = s - d * static_cast<float>(sum);
      }
    });
    require_finite(finite ? 0.0f : NAN);
  }

  void correct(float* y, std::int64_t rows, std::int64_t out, std::int64_t ldy) override {
    if (minima_.empty()) return;
    require(rows == rows_ && static_cast<std::int64_t>(minima_.size()) == out * nb_,
            "internal error: the q8_1 correction got a product of another shape");
    parallel_for(0, rows, threads_, [&](std::int64_t t) {
      const float* gap = sum_gap_.data() + t * nb_;
      float* yt = y + t * ldy;
      for (std::int64_t o = 0; o < out; ++o) {
        const float* m = minima_.data() + o * nb_;
        float c = 0.0f;
        for (std::int64_t b = 0; b < nb_; ++b) c += m[b] * gap[b];
        yt[o] += c;
      }
    });
  }

 private:
  std::vector<float> minima_;
  int threads_;
  std::vector<float> sum_gap_;  // rows × blocks of the input last rounded
  std::int64_t rows_ = 0, nb_ = 0;
};

class Q8KRounding final : public model::LinearInputRounding {
 public:
  void check_shape(std::int64_t rows, std::int64_t cols) const override {
    require(rows >= 0 && cols % 256 == 0,
            "llama.cpp rounds a k-quant product's input in q8_K blocks of 256, but the rows hold "
            "{} values",
            cols);
  }
  void round(float* x, std::int64_t rows, std::int64_t cols) override {
    check_shape(rows, cols);
    require(std::fegetround() == FE_TONEAREST, "the FPU rounding mode is not round-to-nearest");
    for (std::int64_t b = 0; b < rows * cols / 256; ++b) {
      float* v = x + b * 256;
      // The first element of largest magnitude, as quantize_row_q8_K_ref picks it (its sign
      // flips every code and the scale together, so the values do not depend on it).
      float amax = 0.0f, xmax = 0.0f;
      for (int j = 0; j < 256; ++j) {
        if (std::fabs(v[j]) > amax) {
          amax = std::fabs(v[j]);
          xmax = v[j];
        }
      }
      require_finite(amax);
      if (amax == 0.0f) {
        std::fill(v, v + 256, 0.0f);
        continue;
      }
      const float iscale = -127.0f / xmax;
      const float d = 1.0f / iscale;
      for (int j = 0; j < 256; ++j) v[j] = d * std::min(127.0f, std::nearbyint(iscale * v[j]));
    }
  }
};

}  // namespace

LlamaCppRounding llama_cpp_rounding(GgufType weight_type) {
  switch (weight_type) {
    case GgufType::F32:
      return LlamaCppRounding::None;
    case GgufType::F16:
      return LlamaCppRounding::Fp16;
    case GgufType::BF16:
      return LlamaCppRounding::Bf16;
    case GgufType::Q4_0:
    case GgufType::Q4_1:
    case GgufType::Q5_0:
    case GgufType::Q5_1:
    case GgufType::Q8_0:
    case GgufType::MXFP4:
      return LlamaCppRounding::Q8Block32;
    case GgufType::Q4_K:
    case GgufType::Q6_K:
      return LlamaCppRounding::Q8K;
  }
  fail("ggml type id {} has no known llama.cpp activation rounding in precis",
       static_cast<std::uint32_t>(weight_type));
}

const char* to_string(LlamaCppRounding r) {
  switch (r) {
    case LlamaCppRounding::None:
      return "none";
    case LlamaCppRounding::Fp16:
      return "fp16";
    case LlamaCppRounding::Bf16:
      return "bf16";
    case LlamaCppRounding::Q8Block32:
      return "q8 (blocks of 32)";
    case LlamaCppRounding::Q8K:
      return "q8_K (blocks of 256)";
  }
  return "?";
}

std::shared_ptr<model::LinearInputRounding> make_llama_cpp_rounding(LlamaCppRounding r,
                                                                    std::vector<float> block_minima,
                                                                    int threads) {
  switch (r) {
    case LlamaCppRounding::None:
      return nullptr;
    case LlamaCppRounding::Fp16:
      return std::make_shared<CastRounding>("fp16");
    case LlamaCppRounding::Bf16:
      return std::make_shared<CastRounding>("bf16");
    case LlamaCppRounding::Q8Block32:
      return std::make_shared<Q8Block32Rounding>(std::move(block_minima), threads);
    case LlamaCppRounding::Q8K:
      return std::make_shared<Q8KRounding>();
  }
  return nullptr;
}

}  // namespace precis::eval
