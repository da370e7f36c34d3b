#include "precis/io/gguf_writer.hpp"

#include <cstring>
#include <type_traits>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/io/gguf_file.hpp"
#include "precis/io/gguf_tensor_type.hpp"

namespace precis::io {

namespace {

std::uint64_t align_up(std::uint64_t n, std::uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

// Serializes values onto any sink(const void*, size_t); GGUF and this machine are little-endian.
template <typename Sink>
class Encoder {
 public:
  explicit Encoder(Sink& sink) : sink_(sink) {}

  template <typename T>
  void scalar(T v) {
    if constexpr (std::is_same_v<T, bool>) {
      std::uint8_t b = v ? 1 : 0;
      raw(&b, 1);
    } else {
      raw(&v, sizeof v);
    }
  }
  void string(const std::string& s) {
    scalar<std::uint64_t>(s.size());
    raw(s.data(), s.size());
  }
  void raw(const void* data, std::size_t bytes) {
    sink_(data, bytes);
    written_ += bytes;
  }
  void pad_to(std::uint64_t alignment) {
    static constexpr char kZeros[256] = {};
    std::uint64_t n = align_up(written_, alignment) - written_;
    while (n > 0) {
      std::size_t chunk = std::min<std::uint64_t>(n, sizeof kZeros);
      raw(kZeros, chunk);
      n -= chunk;
    }
  }
  std::uint64_t written() const { return written_; }

  // Type id, then the payload (arrays: element type, count, elements).
  void typed(const GgufValue& v) {
    scalar(static_cast<std::uint32_t>(v.type()));
    payload(v.variant());
  }

 private:
  template <typename V>
  void payload(const V& variant) {
    std::visit([&](const auto& x) { element(x); }, variant);
  }
  template <typename T>
  void element(const T& x) {
    if constexpr (std::is_same_v<T, std::string>) {
      string(x);
    } else if constexpr (std::is_same_v<T, GgufArray>) {
      array(x);
    } else {
      scalar(x);
    }
  }
  void array(const GgufArray& a) {
    scalar(static_cast<std::uint32_t>(a.element_type()));
    scalar<std::uint64_t>(a.size());
    std::visit(
        [&](const auto& elements) {
          using E = typename std::decay_t<decltype(elements)>::value_type;
          if constexpr (std::is_arithmetic_v<E> && !std::is_same_v<E, bool>) {
            raw(elements.data(), elements.size() * sizeof(E));
          } else {
            for (const auto& e : elements) element(static_cast<const E&>(e));
          }
        },
        a.elements());
  }

  Sink& sink_;
  std::uint64_t written_ = 0;
};

}  // namespace

void GgufWriter::set(std::string key, GgufValue value) {
  if (key == "general.alignment") {
    require(value.type() == GgufValueType::U32, "general.alignment must be a UINT32 (got {})",
            to_string(value.type()));
    auto a = value.get<std::uint32_t>();
    require(a != 0 && (a & (a - 1)) == 0, "general.alignment {} is not a power of two", a);
    alignment_ = a;
  }
  auto it = key_index_.find(key);
  if (it != key_index_.end()) {
    metadata_[it->second].second = std::move(value);
    return;
  }
  key_index_.emplace(key, metadata_.size());
  metadata_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::add_tensor(std::string name, std::vector<std::uint64_t> dims,
                            formats::GgufType type, std::span<const std::byte> data) {
  require(name.size() <= kGgufMaxNameBytes,
          "tensor name '{}' is {} bytes; llama.cpp allows at most {}", name, name.size(),
          kGgufMaxNameBytes);
  require(!tensor_index_.contains(name), "tensor '{}' was added twice", name);
  require(dims.size() <= kGgufMaxDims, "tensor '{}' has {} dimensions; ggml allows at most {}",
          name, dims.size(), kGgufMaxDims);
  auto layout = ggml_type_layout(type);
  require(layout.has_value(), "tensor '{}': ggml type {} is unknown", name,
          static_cast<std::uint32_t>(type));
  std::uint64_t numel = 1;
  for (auto d : dims) {
    require(!__builtin_mul_overflow(numel, d, &numel) && numel <= (1ull << 62),
            "tensor '{}' has too many elements", name);
  }
  std::uint64_t row = dims.empty() ? 1 : dims[0];
  require(row % layout->block_size == 0,
          "tensor '{}': rows of {} elements are not whole {} blocks of {} (pad or pick another "
          "type)",
          name, row, layout->name, layout->block_size);
  std::uint64_t bytes = numel / layout->block_size * layout->type_size;
  require(data.size() == bytes, "tensor '{}': {} elements of {} take {} bytes but {} were given",
          name, numel, layout->name, bytes, data.size());
  tensor_index_.emplace(name, tensors_.size());
  tensors_.push_back({std::move(name), std::move(dims), type, data});
}

void GgufWriter::add_f32(std::string name, std::vector<std::uint64_t> dims,
                         std::span<const float> data) {
  add_tensor(std::move(name), std::move(dims), formats::GgufType::F32, std::as_bytes(data));
}

template <typename Sink>
void GgufWriter::emit(Sink&& sink) const {
  Encoder enc(sink);
  enc.raw("GGUF", 4);
  enc.scalar(std::uint32_t{3});
  enc.scalar(std::uint64_t{tensors_.size()});
  enc.scalar(std::uint64_t{metadata_.size()});
  for (const auto& [key, value] : metadata_) {
    enc.string(key);
    enc.typed(value);
  }
  std::uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    enc.string(t.name);
    enc.scalar(static_cast<std::uint32_t>(t.dims.size()));
    for (auto d : t.dims) enc.scalar(d);
    enc.scalar(static_cast<std::uint32_t>(t.type));
    enc.scalar(offset);
    offset = align_up(offset + t.data.size(), alignment_);
  }
  enc.pad_to(alignment_);
  for (const Tensor& t : tensors_) {
    enc.raw(t.data.data(), t.data.size());
    enc.pad_to(alignment_);
  }
}

std::uint64_t GgufWriter::file_bytes() const {
  std::uint64_t n = 0;
  emit([&](const void*, std::size_t bytes) { n += bytes; });
  return n;
}

std::string GgufWriter::serialize() const {
  std::string out;
  out.reserve(file_bytes());
  emit([&](const void* data, std::size_t bytes) {
    out.append(static_cast<const char*>(data), bytes);
  });
  return out;
}

void GgufWriter::write(const std::filesystem::path& path) const {
  AtomicFile file(path);
  emit([&](const void* data, std::size_t bytes) { file.write(data, bytes); });
  file.commit();
}

}  // namespace precis::io
