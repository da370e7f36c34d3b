// The AVX2 build of ops_impl.hpp (compiled with -mavx2 -mfma -mf16c; reached only through
// ops.cpp's run-time dispatch).
#define PRECIS_KERNEL_NS avx2
#define PRECIS_KERNEL_TABLE kOpsAvx2
#include "precis/kernels/ops_impl.hpp"
