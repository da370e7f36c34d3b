// GgufFile: a strict reader of GGUF (llama.cpp's model file, versions 2 and 3, little-endian) over
// a memory-mapped file.
//
// Layout: "GGUF", u32 version, u64 tensor_count, u64 kv_count, the key/value pairs, the tensor
// infos (name, u32 n_dims, u64 dims[n_dims] in ggml order, u32 ggml type, u64 offset into the data
// section), padding to general.alignment (default 32), then the data section.
//
// Every file is treated as hostile: each count and length is bounded by the bytes left in the file
// before anything is allocated, nesting depth is bounded, and a file is accepted only when every
// value and tensor type is known, every tensor's shape fits its type's block size without
// overflow, and every tensor's bytes lie aligned inside the file without overlapping another. The
// rules on names (unique, shorter than 64 bytes, at most 4 dims) are llama.cpp's, so a file this
// reader accepts is one llama.cpp will not refuse for its structure. Anything else is a
// precis::Error that names the file, the byte offset and the defect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/core/mapped_file.hpp"
#include "precis/formats/spec.hpp"
#include "precis/io/gguf_value.hpp"

namespace precis::io {

inline constexpr std::uint32_t kGgufDefaultAlignment = 32;
inline constexpr std::size_t kGgufMaxNameBytes = 63;  // ggml's GGML_MAX_NAME (64) holds the NUL
inline constexpr std::uint32_t kGgufMaxDims = 4;      // GGML_MAX_DIMS
inline constexpr int kGgufMaxArrayDepth = 16;         // real files nest at most 2 levels

struct GgufTensorInfo {
  std::string name;
  std::vector<std::uint64_t> dims;  // ggml order: dims[0] is the row length (fastest varying)
  formats::GgufType type = formats::GgufType::F32;  // any ggml type id, not only the catalogue's
  std::uint64_t offset = 0;                         // from the start of the data section
  std::span<const std::byte> data;                  // into the mapping; aligned to the alignment

  std::uint64_t numel() const;
  std::uint64_t row_length() const { return dims.empty() ? 1 : dims[0]; }
  std::uint64_t rows() const { return row_length() == 0 ? 0 : numel() / row_length(); }
};

struct GgufKeyValue {
  std::string key;
  GgufValue value;
};

class GgufFile {
 public:
  // Maps and validates `path`; throws precis::Error naming the file and the defect.
  static GgufFile open(const std::filesystem::path& path);
  // Validates an in-memory image (the fuzzer and tests). `bytes` must outlive the result.
  static GgufFile parse(std::span<const std::byte> bytes, std::string_view source = "<memory>");

  GgufFile(GgufFile&& other) noexcept = default;
  GgufFile& operator=(GgufFile&& other) noexcept = default;
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& source() const { return source_; }
  std::uint32_t version() const { return version_; }
  std::uint32_t alignment() const { return alignment_; }
  std::uint64_t data_offset() const { return data_offset_; }  // of the data section, in the file
  std::uint64_t file_bytes() const { return file_bytes_; }

  // Key/value pairs in file order.
  const std::vector<GgufKeyValue>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;
  // The value, or a precis::Error naming the key and the file.
  const GgufValue& value(std::string_view key) const;
  // Typed value (T as in GgufValue::get): a missing key or another type is a precis::Error that
  // names the file, the key and both types.
  template <typename T>
  T get(std::string_view key) const;
  template <typename T>
  T get_or(std::string_view key, T fallback) const {
    return find(key) ? get<T>(key) : fallback;
  }

  // Tensors in file order.
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  const GgufTensorInfo& tensor(std::string_view name) const;  // precis::Error when absent

 private:
  GgufFile() = default;

  std::string source_;
  MappedFile mapping_;  // empty for parse(): the caller owns the bytes
  std::uint32_t version_ = 0;
  std::uint32_t alignment_ = kGgufDefaultAlignment;
  std::uint64_t data_offset_ = 0;
  std::uint64_t file_bytes_ = 0;
  std::vector<GgufKeyValue> metadata_;
  std::map<std::string, std::size_t, std::less<>> key_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> tensor_index_;

  friend class GgufParser;
};

template <typename T>
T GgufFile::get(std::string_view key) const {
  const GgufValue& v = value(key);
  try {
    return v.get<T>();
  } catch (const Error& e) {
    fail("{}: metadata '{}': {}", source_, key, e.what());
  }
}

}  // namespace precis::io
