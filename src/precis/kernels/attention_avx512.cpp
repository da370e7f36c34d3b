// The AVX-512 build of attention_impl.hpp (reached only through attention.cpp's dispatch): the
// same eight-lane code, with 32 vector registers and the compiler's 16-lane loops.
#define PRECIS_KERNEL_NS avx512
#define PRECIS_KERNEL_TABLE kAttentionAvx512
#include "precis/kernels/attention_impl.hpp"
