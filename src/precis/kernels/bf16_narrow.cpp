#include "precis/kernels/bf16_narrow.hpp"

#include <algorithm>
#include <cstring>

#include "precis/core/cpu_features.hpp"

namespace precis::kernels {

namespace {

void narrow_scalar(const float* src, std::size_t n, std::uint16_t* dst) {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t u;
    std::memcpy(&u, src + i, 4);
    dst[i] = static_cast<std::uint16_t>(u >> 16);
  }
}

}  // namespace

void narrow_bf16_bits(const float* src, std::size_t n, std::uint16_t* dst, int threads) {
  // Native bf16 products exist only on AVX-512 CPUs, so that is the one fast path.
  auto part = cpu_supports(Isa::Avx512) ? detail::narrow_bf16_bits_avx512 : narrow_scalar;
  // Chunks of whole cache lines of the output, and none below ~64 KiB of input per thread: a
  // parallel region costs microseconds, the small operands (per-head, the head) take less.
  const std::size_t min_chunk = 16384;
  const int nt = static_cast<int>(std::min<std::size_t>(
      static_cast<std::size_t>(std::max(threads, 1)), std::max<std::size_t>(n / min_chunk, 1)));
  if (nt <= 1) {
    part(src, n, dst);
    return;
  }
  const std::size_t chunk = (n / nt + 31) / 32 * 32;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int t = 0; t < nt; ++t) {
    const std::size_t b = std::min(n, static_cast<std::size_t>(t) * chunk);
    const std::size_t e = t + 1 == nt ? n : std::min(n, b + chunk);
    part(src + b, e - b, dst + b);
  }
}

}  // namespace precis::kernels
