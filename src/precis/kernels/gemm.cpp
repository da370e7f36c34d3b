#include "precis/kernels/gemm.hpp"

#include <omp.h>

#include <cstdint>
#include <map>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "precis/core/aligned_buffer.hpp"
#include "precis/core/cpu_features.hpp"
#include "precis/core/error.hpp"
#include "precis/kernels/bf16_narrow.hpp"

namespace precis::kernels {

namespace {

using Key = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                       std::int64_t, bool, bool, bool, bool, bool>;

using dt = dnnl::memory::data_type;

dnnl::memory::desc matrix(std::int64_t rows, std::int64_t cols, std::int64_t ld, bool trans,
                          dt type = dt::f32) {
  // A row-major rows × cols matrix, or the transpose view of a stored cols × rows one.
  return dnnl::memory::desc({rows, cols}, type,
                            trans ? dnnl::memory::dims{1, ld} : dnnl::memory::dims{ld, 1});
}

// Whether this CPU and oneDNN run bf16 matmuls natively (decided once per Gemm).
bool probe_native_bf16(const dnnl::engine& engine) {
  // PRECIS_ISA below avx512 (best_isa) turns the native path off, for tests and comparisons.
  if (!detect_cpu_features().avx512bf16 || best_isa() != Isa::Avx512) return false;
  try {
    auto a = matrix(64, 64, 64, false, dt::bf16), b = matrix(64, 64, 64, false, dt::bf16);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, matrix(64, 64, 64, false)), engine);
    return std::string(pd.impl_info_str()).find("ref") == std::string::npos;
  } catch (const dnnl::error&) {
    return false;
  }
}

}  // namespace

struct Gemm::Impl {
  struct Entry {
    dnnl::matmul prim;
    dnnl::memory a, b, c, scratch;
    dnnl::memory::desc b_stored;  // B as the caller stores it: fp32, plain
  };
  // A weight in the layout a packed product reads, and the reorder that makes it from the
  // caller's array.
  struct Packed {
    dnnl::memory src, dst;
    dnnl::reorder reorder;
    std::uint64_t epoch = 0;
  };
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::map<Key, Entry> cache;
  std::map<const float*, std::vector<Packed>> packed;  // by the weight's address
  std::uint64_t epoch = 1;
  AlignedBuffer<std::uint8_t> scratch;
  AlignedBuffer<std::uint16_t> a16, b16, dy16;  // narrowed operands of native bf16 products
  bool native_bf16 = probe_native_bf16(engine);

  // The 16-bit bf16 patterns of x's n stored values, in buf.
  static const std::uint16_t* narrowed(const float* x, std::size_t n,
                                       AlignedBuffer<std::uint16_t>& buf, int threads) {
    if (buf.size() < n) buf.resize(n);
    narrow_bf16_bits(x, n, buf.data(), threads);
    return buf.data();
  }

  Entry& get(bool ta, bool tb, std::int64_t M, std::int64_t N, std::int64_t K, std::int64_t lda,
             std::int64_t ldb, std::int64_t ldc, bool acc, bool bf16, bool pack_b) {
    Key key{M, N, K, lda, ldb, ldc, ta, tb, acc, bf16, pack_b};
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    const dt in = bf16 ? dt::bf16 : dt::f32;
    auto ad = matrix(M, K, lda, ta, in), b_plain = matrix(K, N, ldb, tb, in),
         cd = matrix(M, N, ldc, false);
    // Packed: oneDNN picks B's layout for this product.
    auto bd = pack_b ? dnnl::memory::desc({K, N}, in, dnnl::memory::format_tag::any) : b_plain;
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    if (acc) {
      dnnl::post_ops po;
      po.append_sum(1.0f);
      attr.set_post_ops(po);
    }
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(ad, bd, cd), attr, engine);
    bd = pd.weights_desc();
    const std::size_t need = pd.scratchpad_desc().get_size();
    if (need > scratch.size()) {
      // Primitives made earlier point at the old buffer: re-point them below on every call.
      scratch.resize(need);
    }
    Entry e{dnnl::matmul(pd),
            dnnl::memory(ad, engine, DNNL_MEMORY_NONE),
            dnnl::memory(bd, engine, DNNL_MEMORY_NONE),
            dnnl::memory(cd, engine, DNNL_MEMORY_NONE),
            dnnl::memory(pd.scratchpad_desc(), engine, DNNL_MEMORY_NONE),
            matrix(K, N, ldb, tb)};
    return cache.emplace(key, std::move(e)).first->second;
  }

  // B in the layout of packed product e, reordered from the caller's array at its first use in
  // this epoch. Converts fp32 to bf16 too where the product is bf16 (exact: B holds bf16
  // values), and holds one copy per layout a weight is read in.
  const dnnl::memory& packed_b(const Entry& e, const float* B) {
    auto& copies = packed[B];
    Packed* p = nullptr;
    for (auto& c : copies)
      if (c.src.get_desc() == e.b_stored && c.dst.get_desc() == e.b.get_desc()) p = &c;
    if (!p) {
      Packed c{dnnl::memory(e.b_stored, engine, DNNL_MEMORY_NONE),
               dnnl::memory(e.b.get_desc(), engine), dnnl::reorder(), 0};
      c.reorder = dnnl::reorder(c.src, c.dst);
      copies.push_back(std::move(c));
      p = &copies.back();
    }
    if (p->epoch != epoch) {
      p->src.set_data_handle(const_cast<float*>(B));
      p->reorder.execute(stream, p->src, p->dst);
      p->epoch = epoch;
    }
    return p->dst;
  }
};

Gemm::Gemm(int threads) : threads_(threads), impl_(std::make_unique<Impl>()) {
  require(threads >= 1, "thread count must be at least 1 (got {})", threads);
}
Gemm::~Gemm() = default;
Gemm::Gemm(Gemm&&) noexcept = default;
Gemm& Gemm::operator=(Gemm&&) noexcept = default;

void Gemm::gemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
                const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float* C,
                std::int64_t ldc, bool accumulate) {
  product(trans_a, trans_b, M, N, K, A, nullptr, lda, B, ldb, C, ldc, accumulate, false);
}

void Gemm::begin_weight_epoch() { ++impl_->epoch; }

void Gemm::product(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
                   const float* A, const std::uint16_t* A16, std::int64_t lda, const float* B,
                   std::int64_t ldb, float* C, std::int64_t ldc, bool accumulate, bool pack_b) {
  if (M == 0 || N == 0) return;
  try {
    // oneDNN sizes a primitive's thread team from the calling thread's OpenMP setting when it
    // creates the primitive (matmul and reorder alike): set it before any is made, or one made
    // at the first call runs on every core at every call.
    omp_set_num_threads(threads_);
    const bool bf16 = bf16_operands_ && impl_->native_bf16;
    auto& e = impl_->get(trans_a, trans_b, M, N, K, lda, ldb, ldc, accumulate, bf16, pack_b);
    // The stored extents of the two operands (a transposed view reads a K × M matrix).
    const std::size_t na = static_cast<std::size_t>((trans_a ? K : M) * lda);
    const std::size_t nb = static_cast<std::size_t>((trans_b ? N : K) * ldb);
    if (bf16 && !A16) A16 = impl_->narrowed(A, na, impl_->a16, threads_);
    e.a.set_data_handle(bf16 ? static_cast<void*>(const_cast<std::uint16_t*>(A16))
                             : static_cast<void*>(const_cast<float*>(A)));
    if (pack_b)
      e.b.set_data_handle(impl_->packed_b(e, B).get_data_handle());
    else if (bf16)
      e.b.set_data_handle(const_cast<std::uint16_t*>(impl_->narrowed(B, nb, impl_->b16, threads_)));
    else
      e.b.set_data_handle(const_cast<float*>(B));
    e.c.set_data_handle(C);
    e.scratch.set_data_handle(impl_->scratch.data());
    e.prim.execute(impl_->stream, {{DNNL_ARG_SRC, e.a},
                                   {DNNL_ARG_WEIGHTS, e.b},
                                   {DNNL_ARG_DST, e.c},
                                   {DNNL_ARG_SCRATCHPAD, e.scratch}});
    impl_->stream.wait();
  } catch (const dnnl::error& err) {
    fail("oneDNN matmul failed for M={} N={} K={}: {} (status {})", M, N, K, err.what(),
         static_cast<int>(err.status));
  }
}

bool Gemm::native_bf16() const { return impl_->native_bf16; }

// Below this many rows a product costs about what packing its weight does.
constexpr std::int64_t kMinPackedRows = 64;

void Gemm::linear_forward(const float* x, const float* w, float* y, std::int64_t M, std::int64_t in,
                          std::int64_t out, bool accumulate) {
  product(false, true, M, out, in, x, nullptr, in, w, in, y, out, accumulate,
          weight_packing_ && M >= kMinPackedRows);
}

void Gemm::linear_backward(const float* dy, const float* x, const float* w, float* dx, float* dw,
                           std::int64_t M, std::int64_t in, std::int64_t out, bool accumulate_dx) {
  // Both products read dy: a native bf16 pair narrows it once.
  const std::uint16_t* dy16 = nullptr;
  if (dx && dw && bf16_operands_ && impl_->native_bf16 && M > 0)
    dy16 = Impl::narrowed(dy, static_cast<std::size_t>(M * out), impl_->dy16, threads_);
  if (dx)
    product(false, false, M, in, out, dy, dy16, out, w, in, dx, in, accumulate_dx,
            weight_packing_ && M >= kMinPackedRows);
  if (dw) product(true, false, out, in, M, dy, dy16, out, x, in, dw, in, true, false);
}

}  // namespace precis::kernels
