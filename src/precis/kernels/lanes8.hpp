// Eight fp32 lanes as a GCC vector, for kernels compiled once per ISA (the *_impl.hpp bodies):
// accumulators of this type stay in registers where arrays of floats were spilled to the stack.
// Its functions live in the ISA's namespace (PRECIS_KERNEL_NS) and are static: the same names
// compiled with other flags must not meet at link time. Every operation is lane-wise IEEE
// arithmetic, so the portable build (two SSE halves) and the AVX2 build give identical bits; fma8
// rounds once in both.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstring>

// Internal functions: how a 32-byte vector is passed between them does not matter (the portable
// build would otherwise warn that the ABI of such arguments differs from the AVX build's).
#pragma GCC diagnostic ignored "-Wpsabi"

#ifndef PRECIS_KERNEL_NS
#error "define PRECIS_KERNEL_NS (the ISA build's namespace) before including lanes8.hpp"
#endif

namespace precis::kernels::PRECIS_KERNEL_NS {

typedef float Lanes8 __attribute__((vector_size(32)));

static inline Lanes8 load8(const float* p) {
  Lanes8 v;
  std::memcpy(&v, p, sizeof v);  // no alignment assumed
  return v;
}

static inline void store8(float* p, Lanes8 v) { std::memcpy(p, &v, sizeof v); }

static inline Lanes8 splat8(float x) { return Lanes8{x, x, x, x, x, x, x, x}; }

// a · b + c with one rounding per lane.
static inline Lanes8 fma8(Lanes8 a, Lanes8 b, Lanes8 c) {
#ifdef __FMA__
  return __builtin_ia32_vfmaddps256(a, b, c);
#else
  Lanes8 r;
  for (int i = 0; i < 8; ++i) r[i] = std::fma(a[i], b[i], c[i]);
  return r;
#endif
}

// x[0] + ... + x[n-1] in a fixed order that vectorises: eight strided partial sums, added
// pairwise, then the tail. Not the order of a plain loop, but the same in every build.
static inline float sum8(const float* x, int n) {
  Lanes8 a = splat8(0.f);
  int j = 0;
  for (; j + 8 <= n; j += 8) a += load8(x + j);
  float s = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
  for (; j < n; ++j) s += x[j];
  return s;
}

// max(init, x[0], ..., x[n-1]) as eight lane maxima, then across lanes. A maximum does not
// depend on the order it is taken in (up to the sign of a zero maximum), so this is the plain
// loop's value; NaNs are skipped as there (x > m is false).
static inline float max8(const float* x, int n, float init) {
  Lanes8 a = splat8(init);
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    const Lanes8 b = load8(x + j);
    a = b > a ? b : a;
  }
  float m = init;
  for (int k = 0; k < 8; ++k) m = a[k] > m ? a[k] : m;
  for (; j < n; ++j) m = x[j] > m ? x[j] : m;
  return m;
}

// dst[c·ldd + r] = src[r·lds + c] for an 8 × 8 block, in registers: three rounds of pairwise
// interleaving (rows, then pairs of rows, then quads). Moves values only.
static inline void transpose8x8(const float* src, std::ptrdiff_t lds, float* dst,
                                std::ptrdiff_t ldd) {
  typedef int Index8 __attribute__((vector_size(32)));
  Lanes8 r[8], a[8], b[8];
  for (int i = 0; i < 8; ++i) r[i] = load8(src + i * lds);
  for (int i = 0; i < 8; i += 2) {  // a[i] = even columns of rows i, i+1 interleaved; a[i+1] odd
    a[i] = __builtin_shuffle(r[i], r[i + 1], Index8{0, 8, 2, 10, 4, 12, 6, 14});
    a[i + 1] = __builtin_shuffle(r[i], r[i + 1], Index8{1, 9, 3, 11, 5, 13, 7, 15});
  }
  for (int q = 0; q < 8; q += 4)  // b[q + c]: column c (lanes 0-3) and c + 4 (lanes 4-7) of 4 rows
    for (int k = 0; k < 2; ++k) {
      b[q + k] = __builtin_shuffle(a[q + k], a[q + k + 2], Index8{0, 1, 8, 9, 4, 5, 12, 13});
      b[q + k + 2] = __builtin_shuffle(a[q + k], a[q + k + 2], Index8{2, 3, 10, 11, 6, 7, 14, 15});
    }
  for (int c = 0; c < 4; ++c) {
    store8(dst + c * ldd, __builtin_shuffle(b[c], b[c + 4], Index8{0, 1, 2, 3, 8, 9, 10, 11}));
    store8(dst + (c + 4) * ldd,
           __builtin_shuffle(b[c], b[c + 4], Index8{4, 5, 6, 7, 12, 13, 14, 15}));
  }
}

}  // namespace precis::kernels::PRECIS_KERNEL_NS
