// The AVX-512 build of ops_impl.hpp (reached only through ops.cpp's run-time dispatch): the same
// loops, which the compiler vectorises sixteen lanes wide.
#define PRECIS_KERNEL_NS avx512
#define PRECIS_KERNEL_TABLE kOpsAvx512
#include "precis/kernels/ops_impl.hpp"
