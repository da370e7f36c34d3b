// Reference Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1: one scale (and a minimum for the _1 types) per block
// of 32. The float expressions keep ggml's operation order, so results match it bit for bit.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "precis/formats/gguf/reference.hpp"
#include "precis/formats/gguf/scalar_ops.hpp"
#include "precis/formats/half.hpp"

namespace precis::formats::gguf {
namespace {

// The element of largest magnitude with its sign; the first one wins a tie. Symmetric types
// scale by it so that the extreme element lands exactly on the most negative code.
float signed_absmax(const float* x) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, float& min, float& max) {
  min = FLT_MAX;
  max = -FLT_MAX;
  for (int j = 0; j < kQK; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
}

float inverse(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

}  // namespace

void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, std::int64_t k) {
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = inverse(d);
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) y[i].qs[j] = to_i8_x86(std::round(x[j] * id));
  }
}

void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, std::int64_t k) {
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    const float d = signed_absmax(x) / -8;
    const float id = inverse(d);
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      // Truncation after adding 8.5 rounds half up; the code 16 reached by x = -max is clamped.
      const int q0 = std::min(15, int{to_i8_x86(x[j] * id + 8.5f)});
      const int q1 = std::min(15, int{to_i8_x86(x[j + kQK / 2] * id + 8.5f)});
      y[i].qs[j] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(q0) | (q1 << 4));
    }
  }
}

void quantize_row_q4_1_ref(const float* x, BlockQ4_1* y, std::int64_t k) {
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    float min, max;
    min_max(x, min, max);
    const float d = (max - min) / 15;
    const float id = inverse(d);
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(min);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(15, int{to_i8_x86((x[j] - min) * id + 0.5f)});
      const int q1 = std::min(15, int{to_i8_x86((x[j + kQK / 2] - min) * id + 0.5f)});
      y[i].qs[j] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(q0) | (q1 << 4));
    }
  }
}

void quantize_row_q5_0_ref(const float* x, BlockQ5_0* y, std::int64_t k) {
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    const float d = signed_absmax(x) / -16;
    const float id = inverse(d);
    y[i].d = fp32_to_fp16(d);
    std::uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const auto q0 = static_cast<std::uint8_t>(std::min(31, int{to_i8_x86(x[j] * id + 16.5f)}));
      const auto q1 =
          static_cast<std::uint8_t>(std::min(31, int{to_i8_x86(x[j + kQK / 2] * id + 16.5f)}));
      y[i].qs[j] = static_cast<std::uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + kQK / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof qh);
  }
}

void quantize_row_q5_1_ref(const float* x, BlockQ5_1* y, std::int64_t k) {
  for (std::int64_t i = 0; i < k / kQK; ++i, x += kQK) {
    float min, max;
    min_max(x, min, max);
    const float d = (max - min) / 31;
    const float id = inverse(d);
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(min);
    std::uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      // No clamp here in ggml: (x - min) · id + 0.5 stays below 32 for every finite block.
      const std::uint8_t q0 = to_u8_x86((x[j] - min) * id + 0.5f);
      const std::uint8_t q1 = to_u8_x86((x[j + kQK / 2] - min) * id + 0.5f);
      y[i].qs[j] = static_cast<std::uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + kQK / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof qh);
  }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, std::int64_t k) {
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, std::int64_t k) {
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>((x[i].qs[j] & 0x0F) - 8) * d;
      y[j + kQK / 2] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_row_q4_1(const BlockQ4_1* x, float* y, std::int64_t k) {
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(x[i].qs[j] & 0x0F) * d + m;
      y[j + kQK / 2] = static_cast<float>(x[i].qs[j] >> 4) * d + m;
    }
  }
}

namespace {
// The 5-bit code of element j (and j + 16) from the nibbles and the qh bit field.
int q5_low(const std::uint8_t* qs, std::uint32_t qh, int j) {
  return (qs[j] & 0x0F) | static_cast<int>(((qh >> j) << 4) & 0x10);
}
int q5_high(const std::uint8_t* qs, std::uint32_t qh, int j) {
  return (qs[j] >> 4) | static_cast<int>((qh >> (j + 12)) & 0x10);
}
}  // namespace

void dequantize_row_q5_0(const BlockQ5_0* x, float* y, std::int64_t k) {
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    std::uint32_t qh;
    std::memcpy(&qh, x[i].qh, sizeof qh);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(q5_low(x[i].qs, qh, j) - 16) * d;
      y[j + kQK / 2] = static_cast<float>(q5_high(x[i].qs, qh, j) - 16) * d;
    }
  }
}

void dequantize_row_q5_1(const BlockQ5_1* x, float* y, std::int64_t k) {
  for (std::int64_t i = 0; i < k / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    std::uint32_t qh;
    std::memcpy(&qh, x[i].qh, sizeof qh);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(q5_low(x[i].qs, qh, j)) * d + m;
      y[j + kQK / 2] = static_cast<float>(q5_high(x[i].qs, qh, j)) * d + m;
    }
  }
}

}  // namespace precis::formats::gguf
