// Matrix products of the linear layers, through oneDNN.
//
// A linear layer stores its weight as (out, in) row-major (Hugging Face layout), so
//   forward:   Y[M×out]  = X[M×in] · Wᵀ
//   backward:  dX[M×in]  = dY · W          (overwritten, or accumulated when asked)
//              dW[out×in] += dYᵀ · X       (always accumulated: gradients add over micro-batches)
// All operands are fp32 arrays. bf16 compute is the caller's choice of operands: rounding both to
// bf16 (formats/half.hpp) before an fp32 product gives exactly the bf16×bf16 → fp32 product, since
// a product of two 8-bit significands is exact in fp32's 24 (docs/model.md).
//
// Each distinct product shape gets a oneDNN matmul primitive, created on first use and kept, and
// every primitive runs on one user-owned scratchpad: after the first step nothing is allocated
// (oneDNN's own sgemm allocates its packing buffers per call, and fresh pages fault slowly).
// oneDNN's OpenMP runtime takes its thread count from the calling thread's OpenMP setting; Gemm
// sets it to its own count before each call, so no process-wide state is touched.
#pragma once

#include <cstdint>
#include <memory>

namespace precis::kernels {

class Gemm {
 public:
  explicit Gemm(int threads);
  ~Gemm();
  Gemm(Gemm&&) noexcept;
  Gemm& operator=(Gemm&&) noexcept;
  int threads() const { return threads_; }

  // C[M×N] = A·B (+ C if accumulate); A is M×K with leading dimension lda, B is K×N
  // (or their transposes when trans_a/trans_b); row-major throughout.
  void gemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
            const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float* C,
            std::int64_t ldc, bool accumulate);

  // Products whose operands already hold bf16 values (rounded fp32). Where the CPU multiplies
  // bf16 natively (AVX512_BF16, AMX) and oneDNN has a kernel for it, the operands are narrowed
  // to 16 bits (exactly) and a bf16 matmul runs; elsewhere the fp32 product above computes the
  // same products (bf16 × bf16 is exact in fp32), accumulated in a possibly different order.
  void set_bf16_operands(bool on) { bf16_operands_ = on; }
  bool native_bf16() const;

  // Weight packing, for a caller whose weights stay put between calls of begin_weight_epoch()
  // (a model between optimizer steps). The products that read a weight as their B operand (the
  // forward and dX products of linear_forward / linear_backward) then read it from a copy in the
  // blocked layout that oneDNN's kernel reads fastest (3-24 % faster on the shapes of small
  // models), made from its fp32 values at its first use in an epoch (narrowed to bf16 there for
  // native bf16 products) and reused after. A packed copy is keyed by the weight's address:
  // changing a weight without a new epoch would leave the products reading the old values, so
  // packing is off unless asked for.
  void set_weight_packing(bool on) { weight_packing_ = on; }
  void begin_weight_epoch();

  // Y = X·Wᵀ, or Y += X·Wᵀ when accumulate (a residual added in the same pass).
  void linear_forward(const float* x, const float* w, float* y, std::int64_t M, std::int64_t in,
                      std::int64_t out, bool accumulate = false);
  // dx may be null (the layer's input needs no gradient); dw may be null likewise. Native bf16
  // products narrow dy once for both.
  void linear_backward(const float* dy, const float* x, const float* w, float* dx, float* dw,
                       std::int64_t M, std::int64_t in, std::int64_t out,
                       bool accumulate_dx = false);

 private:
  // gemm(), where A16 (may be null) holds A already narrowed to bf16 for a native bf16 product
  // and pack_b reads B from its packed copy.
  void product(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
               const float* A, const std::uint16_t* A16, std::int64_t lda, const float* B,
               std::int64_t ldb, float* C, std::int64_t ldc, bool accumulate, bool pack_b);
  struct Impl;
  int threads_;
  bool bf16_operands_ = false;
  bool weight_packing_ = false;
  std::unique_ptr<Impl> impl_;
};

}  // namespace precis::kernels
