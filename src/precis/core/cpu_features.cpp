#include "precis/core/cpu_features.hpp"

#include <cpuid.h>

#include <cstdlib>
#include <string_view>

namespace precis {

namespace {

CpuFeatures query_cpu_features() {
  __builtin_cpu_init();
  CpuFeatures f;
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512bf16 = __builtin_cpu_supports("avx512bf16");
  f.avx512vnni = __builtin_cpu_supports("avx512vnni");
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  // clang before 15 does not know "f16c" in __builtin_cpu_supports; CPUID leaf 1 says it directly.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  f.f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
  return f;
}

}  // namespace

CpuFeatures detect_cpu_features() {
  static const CpuFeatures features = query_cpu_features();
  return features;
}

bool cpu_supports(Isa isa) {
  CpuFeatures f = detect_cpu_features();
  switch (isa) {
    case Isa::Reference:
      return true;
    case Isa::Avx2:
      return f.has_avx2_core();
    case Isa::Avx512:
      return f.has_avx512_core();
  }
  return false;
}

Isa best_isa() {
  Isa cap = Isa::Avx512;
  if (const char* forced = std::getenv("PRECIS_ISA")) {
    std::string_view v(forced);
    if (v == "reference") cap = Isa::Reference;
    if (v == "avx2") cap = Isa::Avx2;
  }
  for (Isa isa : {Isa::Avx512, Isa::Avx2}) {
    if (static_cast<int>(isa) <= static_cast<int>(cap) && cpu_supports(isa)) return isa;
  }
  return Isa::Reference;
}

std::string to_string(Isa isa) {
  switch (isa) {
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
    default:
      return "reference";
  }
}

}  // namespace precis
