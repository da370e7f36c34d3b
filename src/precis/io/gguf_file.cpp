#include "precis/io/gguf_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "precis/io/gguf_tensor_type.hpp"

namespace precis::io {

namespace {

constexpr std::uint64_t kInt64Max =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

// The fewest bytes one array element of `type` can take on disk: what bounds a declared count.
std::uint64_t min_element_bytes(GgufValueType type) {
  if (type == GgufValueType::String) return 8;     // u64 length, possibly empty
  if (type == GgufValueType::Array) return 4 + 8;  // element type and count of an empty array
  return gguf_value_size(type);
}

bool mul_overflows(std::uint64_t a, std::uint64_t b, std::uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

}  // namespace

// Reads the header and metadata with bounds checks; every error names the byte offset.
class GgufParser {
 public:
  GgufParser(std::span<const std::byte> bytes, std::string_view source)
      : bytes_(bytes), source_(source) {}

  GgufFile parse() {
    GgufFile file;
    file.source_ = source_;
    file.file_bytes_ = bytes_.size();
    require(bytes_.size() >= 4 && std::memcmp(bytes_.data(), "GGUF", 4) == 0,
            "{}: not a GGUF file (it does not start with the bytes \"GGUF\")", source_);
    pos_ = 4;
    std::uint32_t version = read<std::uint32_t>("the version");
    if (version > 0xFFFF && (version & 0xFFFF) == 0) {
      fail(
          "{}: a big-endian GGUF file (version bytes {:#010x}); precis reads little-endian GGUF "
          "only: convert it with llama.cpp's gguf tools",
          source_, version);
    }
    require(version == 2 || version == 3,
            "{}: GGUF version {} is not supported (precis reads versions 2 and 3; re-convert the "
            "model with a recent llama.cpp)",
            source_, version);
    file.version_ = version;
    std::uint64_t tensor_count = read<std::uint64_t>("the tensor count");
    std::uint64_t kv_count = read<std::uint64_t>("the metadata count");
    // A key/value pair takes at least 13 bytes (empty key, type, one-byte value), a tensor info
    // at least 24 (empty name, n_dims, type, offset): counts beyond that cannot be honest.
    require(kv_count <= remaining() / 13,
            "{}: the header declares {} metadata entries but only {} bytes follow (corrupt or "
            "truncated file)",
            source_, kv_count, remaining());
    file.metadata_.reserve(kv_count);
    for (std::uint64_t i = 0; i < kv_count; ++i) {
      std::size_t at = pos_;
      std::string key = read_string("a metadata key");
      require(!file.key_index_.contains(key), "{}: metadata key '{}' appears twice (byte {})",
              source_, key, at);
      auto type = read_type("the type of metadata '" + key + "'");
      GgufValue value = read_value(type, key, 0);
      file.key_index_.emplace(key, file.metadata_.size());
      file.metadata_.push_back({std::move(key), std::move(value)});
    }
    file.alignment_ = alignment_of(file);

    require(tensor_count <= remaining() / 24,
            "{}: the header declares {} tensors but only {} bytes follow the metadata (corrupt or "
            "truncated file)",
            source_, tensor_count, remaining());
    file.tensors_.reserve(tensor_count);
    for (std::uint64_t i = 0; i < tensor_count; ++i) {
      GgufTensorInfo info = read_tensor_info(i);
      require(!file.tensor_index_.contains(info.name), "{}: tensor name '{}' appears twice",
              source_, info.name);
      file.tensor_index_.emplace(info.name, file.tensors_.size());
      file.tensors_.push_back(std::move(info));
    }
    std::uint64_t data_offset = (pos_ + file.alignment_ - 1) / file.alignment_ * file.alignment_;
    file.data_offset_ = std::min<std::uint64_t>(data_offset, bytes_.size());
    place_tensors(file, data_offset);
    return file;
  }

 private:
  std::size_t remaining() const { return bytes_.size() - pos_; }

  [[noreturn]] void truncated(std::string_view what, std::uint64_t need) const {
    fail(
        "{}: truncated file: reading {} at byte {} needs {} bytes but only {} remain (re-download "
        "or re-export it)",
        source_, what, pos_, need, remaining());
  }

  template <typename T>
  T read(std::string_view what) {
    if (remaining() < sizeof(T)) truncated(what, sizeof(T));
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));  // GGUF and this machine: little-endian
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(std::string_view what) {
    std::uint64_t length = read<std::uint64_t>(what);
    if (length > remaining()) truncated(what, length);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
    pos_ += length;
    return s;
  }

  GgufValueType read_type(std::string_view what) {
    std::size_t at = pos_;
    auto id = read<std::uint32_t>(what);
    require(id < kGgufValueTypeCount,
            "{}: {} is value type {} at byte {}, which GGUF does not define (0..12): corrupt "
            "file or a newer GGUF version",
            source_, what, id, at);
    return static_cast<GgufValueType>(id);
  }

  GgufValue read_value(GgufValueType type, const std::string& key, int depth) {
    switch (type) {
      case GgufValueType::U8:
        return read<std::uint8_t>(key);
      case GgufValueType::I8:
        return read<std::int8_t>(key);
      case GgufValueType::U16:
        return read<std::uint16_t>(key);
      case GgufValueType::I16:
        return read<std::int16_t>(key);
      case GgufValueType::U32:
        return read<std::uint32_t>(key);
      case GgufValueType::I32:
        return read<std::int32_t>(key);
      case GgufValueType::F32:
        return read<float>(key);
      case GgufValueType::Bool:
        return read_bool(key);
      case GgufValueType::String:
        return read_string(key);
      case GgufValueType::Array:
        return read_array(key, depth + 1);
      case GgufValueType::U64:
        return read<std::uint64_t>(key);
      case GgufValueType::I64:
        return read<std::int64_t>(key);
      case GgufValueType::F64:
        return read<double>(key);
    }
    fail("{}: internal: value type {} of '{}'", source_, static_cast<int>(type), key);
  }

  bool read_bool(const std::string& key) {
    std::size_t at = pos_;
    auto b = read<std::uint8_t>(key);
    require(b <= 1, "{}: metadata '{}' holds {} at byte {} where a BOOL must be 0 or 1", source_,
            key, static_cast<int>(b), at);
    return b == 1;
  }

  template <typename T>
  std::vector<T> read_fixed(std::uint64_t count) {
    std::vector<T> v(count);
    if (count == 0) return v;  // memcpy must not see the empty vector's null pointer
    std::memcpy(v.data(), bytes_.data() + pos_, count * sizeof(T));
    pos_ += count * sizeof(T);
    return v;
  }

  GgufArray read_array(const std::string& key, int depth) {
    require(depth <= kGgufMaxArrayDepth,
            "{}: metadata '{}' nests arrays more than {} deep at byte {} (corrupt file)", source_,
            key, kGgufMaxArrayDepth, pos_);
    GgufValueType element = read_type("the element type of array '" + key + "'");
    std::size_t at = pos_;
    auto count = read<std::uint64_t>("the length of array '" + key + "'");
    require(count <= remaining() / min_element_bytes(element),
            "{}: array '{}' declares {} elements of {} at byte {} but only {} bytes follow "
            "(corrupt or truncated file)",
            source_, key, count, to_string(element), at, remaining());
    switch (element) {
      case GgufValueType::U8:
        return GgufArray(read_fixed<std::uint8_t>(count));
      case GgufValueType::I8:
        return GgufArray(read_fixed<std::int8_t>(count));
      case GgufValueType::U16:
        return GgufArray(read_fixed<std::uint16_t>(count));
      case GgufValueType::I16:
        return GgufArray(read_fixed<std::int16_t>(count));
      case GgufValueType::U32:
        return GgufArray(read_fixed<std::uint32_t>(count));
      case GgufValueType::I32:
        return GgufArray(read_fixed<std::int32_t>(count));
      case GgufValueType::F32:
        return GgufArray(read_fixed<float>(count));
      case GgufValueType::U64:
        return GgufArray(read_fixed<std::uint64_t>(count));
      case GgufValueType::I64:
        return GgufArray(read_fixed<std::int64_t>(count));
      case GgufValueType::F64:
        return GgufArray(read_fixed<double>(count));
      case GgufValueType::Bool: {
        std::vector<bool> v(count);
        for (std::uint64_t i = 0; i < count; ++i) v[i] = read_bool(key);
        return GgufArray(std::move(v));
      }
      case GgufValueType::String: {
        std::vector<std::string> v;
        v.reserve(count);
        for (std::uint64_t i = 0; i < count; ++i) v.push_back(read_string(key));
        return GgufArray(std::move(v));
      }
      case GgufValueType::Array: {
        std::vector<GgufArray> v;
        v.reserve(count);
        for (std::uint64_t i = 0; i < count; ++i) v.push_back(read_array(key, depth + 1));
        return GgufArray(std::move(v));
      }
    }
    fail("{}: internal: element type of '{}'", source_, key);
  }

  std::uint32_t alignment_of(const GgufFile& file) const {
    const GgufValue* v = file.find("general.alignment");
    if (!v) return kGgufDefaultAlignment;
    require(v->type() == GgufValueType::U32,
            "{}: general.alignment is {} but must be UINT32 (corrupt file)", source_,
            to_string(v->type()));
    auto a = v->get<std::uint32_t>();
    require(a != 0 && (a & (a - 1)) == 0,
            "{}: general.alignment is {}, which is not a power of two (corrupt file)", source_, a);
    return a;
  }

  GgufTensorInfo read_tensor_info(std::uint64_t index) {
    GgufTensorInfo info;
    std::size_t at = pos_;
    info.name = read_string("a tensor name");
    require(info.name.size() <= kGgufMaxNameBytes,
            "{}: tensor {} (byte {}) has a {}-byte name; llama.cpp allows at most {} bytes",
            source_, index, at, info.name.size(), kGgufMaxNameBytes);
    auto n_dims = read<std::uint32_t>("the dimension count of tensor '" + info.name + "'");
    require(n_dims <= kGgufMaxDims, "{}: tensor '{}' has {} dimensions; ggml allows at most {}",
            source_, info.name, n_dims, kGgufMaxDims);
    std::uint64_t numel = 1;
    for (std::uint32_t d = 0; d < n_dims; ++d) {
      auto dim = read<std::uint64_t>("the dimensions of tensor '" + info.name + "'");
      require(dim <= kInt64Max, "{}: tensor '{}' has dimension {} = {}, beyond ggml's int64 range",
              source_, info.name, d, dim);
      require(!mul_overflows(numel, dim, &numel) && numel <= kInt64Max,
              "{}: tensor '{}' has dimensions whose product overflows 64 bits (corrupt file)",
              source_, info.name);
      info.dims.push_back(dim);
    }
    std::size_t type_at = pos_;
    auto type = read<std::uint32_t>("the type of tensor '" + info.name + "'");
    auto layout = ggml_type_layout(type);
    require(layout.has_value(),
            "{}: tensor '{}' has ggml type {} (byte {}), which ggml does not define: corrupt file "
            "or a type newer than precis knows",
            source_, info.name, type, type_at);
    info.type = static_cast<formats::GgufType>(type);
    require(info.row_length() % layout->block_size == 0,
            "{}: tensor '{}' has rows of {} elements, not a multiple of {}'s block size {}",
            source_, info.name, info.row_length(), layout->name, layout->block_size);
    info.offset = read<std::uint64_t>("the offset of tensor '" + info.name + "'");
    std::uint64_t bytes = 0;
    require(!mul_overflows(numel / layout->block_size, layout->type_size, &bytes),
            "{}: tensor '{}' would take more than 2^64 bytes (corrupt file)", source_, info.name);
    byte_counts_.push_back(bytes);  // the span is set once the data section is known
    return info;
  }

  void place_tensors(GgufFile& file, std::uint64_t data_offset) {
    if (file.tensors_.empty()) return;
    require(data_offset <= bytes_.size(),
            "{}: truncated file: the data section should start at byte {} but the file has {} "
            "bytes",
            source_, data_offset, bytes_.size());
    std::uint64_t data_bytes = bytes_.size() - data_offset;
    std::vector<std::size_t> order(file.tensors_.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      GgufTensorInfo& t = file.tensors_[i];
      std::uint64_t bytes = byte_counts_[i];
      require(t.offset % file.alignment_ == 0,
              "{}: tensor '{}' starts at offset {} of the data section, not a multiple of the "
              "alignment {} (corrupt file)",
              source_, t.name, t.offset, file.alignment_);
      require(t.offset <= data_bytes && bytes <= data_bytes - t.offset,
              "{}: tensor '{}' needs bytes {}..{} of the data section but it holds {} (truncated "
              "or corrupt file)",
              source_, t.name, t.offset, t.offset + bytes, data_bytes);
      t.data = bytes_.subspan(data_offset + t.offset, bytes);
      order[i] = i;
    }
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const GgufTensorInfo& ta = file.tensors_[a];
      const GgufTensorInfo& tb = file.tensors_[b];
      return std::pair(ta.offset, ta.data.size()) < std::pair(tb.offset, tb.data.size());
    });
    for (std::size_t k = 1; k < order.size(); ++k) {
      const GgufTensorInfo& prev = file.tensors_[order[k - 1]];
      const GgufTensorInfo& t = file.tensors_[order[k]];
      require(t.offset >= prev.offset + prev.data.size(),
              "{}: tensors '{}' (bytes {}..{}) and '{}' (from byte {}) overlap (corrupt file)",
              source_, prev.name, prev.offset, prev.offset + prev.data.size(), t.name, t.offset);
    }
  }

  std::span<const std::byte> bytes_;
  std::string source_;
  std::size_t pos_ = 0;
  std::vector<std::uint64_t> byte_counts_;
};

std::uint64_t GgufTensorInfo::numel() const {
  std::uint64_t n = 1;
  for (auto d : dims) n *= d;  // the reader checked that this cannot overflow
  return n;
}

GgufFile GgufFile::parse(std::span<const std::byte> bytes, std::string_view source) {
  return GgufParser(bytes, source).parse();
}

GgufFile GgufFile::open(const std::filesystem::path& path) {
  std::string where = path.string();
  MappedFile mapping = MappedFile::open(path, "GGUF file");
  if (mapping.size() < 24) {
    fail("{}: {} bytes is too short for a GGUF file (its header alone takes 24; truncated?)", where,
         mapping.size());
  }
  GgufFile file = parse(mapping.bytes(), where);
  file.mapping_ = std::move(mapping);
  return file;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].value;
}

const GgufValue& GgufFile::value(std::string_view key) const {
  const GgufValue* v = find(key);
  require(v != nullptr, "{}: no metadata '{}' in this GGUF file", source_, key);
  return *v;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensorInfo& GgufFile::tensor(std::string_view name) const {
  const GgufTensorInfo* t = find_tensor(name);
  require(t != nullptr, "{}: no tensor '{}' in this GGUF file ({} tensors)", source_, name,
          tensors_.size());
  return *t;
}

}  // namespace precis::io
