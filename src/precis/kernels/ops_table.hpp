// The ISA builds of ops_impl.hpp, as tables of function pointers that ops.cpp dispatches over.
#pragma once

#include <cstdint>

namespace precis::kernels {

struct OpsTable {
  void (*embedding_forward)(int, float*, const std::int32_t*, const float*, std::int64_t,
                            std::int64_t);
  void (*embedding_backward)(int, float*, const float*, const std::int32_t*, std::int64_t,
                             std::int64_t);
  void (*rmsnorm_forward)(int, float*, float*, const float*, const float*, std::int64_t,
                          std::int64_t, float);
  void (*rmsnorm_backward)(int, float*, float*, const float*, const float*, const float*,
                           const float*, std::int64_t, std::int64_t, float*);
  void (*rope_forward)(int, float*, std::int64_t, std::int64_t, std::int64_t, int, int, int,
                       const float*, const float*);
  void (*rope_backward)(int, float*, std::int64_t, std::int64_t, std::int64_t, int, int, int,
                        const float*, const float*);
  void (*swiglu_forward)(int, float*, const float*, std::int64_t, std::int64_t);
  void (*swiglu_backward)(int, float*, const float*, const float*, std::int64_t, std::int64_t);
  void (*crossentropy_forward)(int, float*, float*, const float*, const std::int32_t*, std::int64_t,
                               std::int64_t);
  void (*crossentropy_backward)(int, float*, const float*, const float*, const std::int32_t*,
                                std::int64_t, std::int64_t, float);
  void (*add)(int, float*, const float*, const float*, std::int64_t);
  void (*round_bf16)(int, float*, const float*, std::int64_t);
};

extern const OpsTable kOpsReference;
extern const OpsTable kOpsAvx2;
extern const OpsTable kOpsAvx512;

}  // namespace precis::kernels
