// The AVX2 build of attention_impl.hpp (reached only through attention.cpp's dispatch).
#define PRECIS_KERNEL_NS avx2
#define PRECIS_KERNEL_TABLE kAttentionAvx2
#include "precis/kernels/attention_impl.hpp"
