// What the running CPU can do, for choosing SIMD paths at run time (the build never assumes).
#pragma once

#include <string>

namespace precis {

struct CpuFeatures {
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512bf16 = false;
  bool avx512vnni = false;
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;

  // The AVX2 subset every _avx2.cpp file is compiled for.
  bool has_avx2_core() const { return avx2 && fma && f16c; }

  // The AVX-512 subset every _avx512.cpp file is compiled for (see cmake/Stages.cmake).
  bool has_avx512_core() const {
    return avx512f && avx512bw && avx512vl && avx512dq && fma && f16c;
  }
};

// Read once per process (CPUID traps under a hypervisor, and the kernels are dispatched per
// call); every later call returns the same answer.
CpuFeatures detect_cpu_features();

// Which instruction set a kernel runs on: Reference is the plain C++ implementation, which every
// SIMD path must equal bit for bit.
enum class Isa { Reference, Avx2, Avx512 };

// The best Isa the CPU supports. PRECIS_ISA=reference|avx2|avx512 in the environment caps it
// (for tests and benchmarks); a request the CPU cannot run falls back to the best it can.
Isa best_isa();
bool cpu_supports(Isa isa);
std::string to_string(Isa isa);

}  // namespace precis
