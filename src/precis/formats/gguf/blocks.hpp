// The byte layouts of ggml's block quantization types (ggml-common.h), as plain structs. A tensor
// row of k elements is k / block_size consecutive blocks; fp16 fields hold IEEE binary16 bits.
// Packed storage must be 2-byte aligned (as in ggml), since most blocks hold uint16 fields.
#pragma once

#include <cstdint>

namespace precis::formats::gguf {

inline constexpr int kQK = 32;    // elements per block of the "legacy" types and MXFP4
inline constexpr int kQKK = 256;  // elements per super-block of the K-quants

// x = d · q
struct BlockQ8_0 {
  std::uint16_t d;
  std::int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34);

// x = d · (q - 8); element j in the low nibble of qs[j], element j + 16 in its high nibble.
struct BlockQ4_0 {
  std::uint16_t d;
  std::uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// x = d · q + m
struct BlockQ4_1 {
  std::uint16_t d;
  std::uint16_t m;
  std::uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// x = d · (q - 16); bit j of the little-endian qh word is the fifth bit of element j.
struct BlockQ5_0 {
  std::uint16_t d;
  std::uint8_t qh[4];
  std::uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// x = d · q + m, q of 5 bits split as in Q5_0.
struct BlockQ5_1 {
  std::uint16_t d;
  std::uint16_t m;
  std::uint8_t qh[4];
  std::uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// x = kMxfp4Values[q] · 2^(e - 128): E2M1 codes against a doubled value table, E8M0 exponent e.
struct BlockMxfp4 {
  std::uint8_t e;
  std::uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockMxfp4) == 17);

// Eight sub-blocks of 32: x = d · sc_j · q - dmin · m_j, with 6-bit sc_j, m_j packed in scales[12]
// (see get_scale_min_k4 in kquants_ref.cpp) and 4-bit q, two sub-blocks per 32 bytes of qs.
struct BlockQ4_K {
  std::uint16_t d;
  std::uint16_t dmin;
  std::uint8_t scales[12];
  std::uint8_t qs[kQKK / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// Sixteen sub-blocks of 16: x = d · scales_j · (q - 32), q of 6 bits: low 4 in ql, high 2 in qh.
struct BlockQ6_K {
  std::uint8_t ql[kQKK / 2];
  std::uint8_t qh[kQKK / 4];
  std::int8_t scales[kQKK / 16];
  std::uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// E2M1 values times two (0, 0.5, 1, 1.5, 2, 3, 4, 6 become integers); index 8 is -0.
inline constexpr std::int8_t kMxfp4Values[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                                 0, -1, -2, -3, -4, -6, -8, -12};

}  // namespace precis::formats::gguf
