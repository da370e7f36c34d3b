// The widest fp32 vector of the ISA build (PRECIS_KERNEL_NS): sixteen lanes where AVX-512 is
// compiled in, eight (Lanes8) elsewhere. Kernels whose every sum runs along one lane in a fixed
// order may hold their tiles in LanesW: the width decides how many lanes an instruction computes,
// never a lane's arithmetic, so every build still gives the same bits.
#pragma once

#include <cstring>

#include "precis/kernels/lanes8.hpp"

#ifdef __AVX512F__
#include <immintrin.h>
#endif

namespace precis::kernels::PRECIS_KERNEL_NS {

#ifdef __AVX512F__
typedef float LanesW __attribute__((vector_size(64)));
inline constexpr int kWidth = 16;

static inline LanesW fmaw(LanesW a, LanesW b, LanesW c) {
  return LanesW(_mm512_fmadd_ps(__m512(a), __m512(b), __m512(c)));
}

static inline LanesW splatw(float x) { return LanesW(_mm512_set1_ps(x)); }
#else
typedef Lanes8 LanesW;
inline constexpr int kWidth = 8;

static inline LanesW fmaw(LanesW a, LanesW b, LanesW c) { return fma8(a, b, c); }

static inline LanesW splatw(float x) { return splat8(x); }
#endif

static inline LanesW loadw(const float* p) {
  LanesW v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

static inline void storew(float* p, LanesW v) { std::memcpy(p, &v, sizeof v); }

}  // namespace precis::kernels::PRECIS_KERNEL_NS
