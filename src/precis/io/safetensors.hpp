// safetensors (Hugging Face): a strict reader over a memory-mapped file and an atomic writer.
//
// Layout: u64 little-endian header size N, N bytes of JSON, then the data buffer. The JSON maps
// each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// buffer) and may hold "__metadata__": {string: string}. The reader accepts a file only if every
// tensor's byte count equals shape × dtype size and the tensors, sorted by offset, tile the whole
// buffer with no gap and no overlap: anything else is a truncated, corrupt or foreign file, and
// saying so early beats reading garbage weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "precis/core/mapped_file.hpp"

namespace precis::io {

enum class Dtype { F32, F16, BF16, I8, U8, I16, U16, I32, I64, U32 };

std::size_t dtype_size(Dtype dtype);
std::string_view to_string(Dtype dtype);
// Throws precis::Error naming the supported dtypes.
Dtype parse_dtype(std::string_view text);

struct TensorInfo {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> data;  // points into the file's mapping; unaligned in general

  std::int64_t numel() const;
};

// Converts an F32, F16 or BF16 tensor to fp32 (out.size() must equal numel()).
void copy_to_f32(const TensorInfo& tensor, std::span<float> out);

class SafetensorsFile {
 public:
  // Maps and validates `path`; throws precis::Error naming the file and the defect.
  static SafetensorsFile open(const std::filesystem::path& path);
  // Validates an in-memory image (used by the fuzzer and tests). `bytes` must outlive the result.
  static SafetensorsFile parse(std::span<const std::byte> bytes,
                               std::string_view source = "<memory>");

  SafetensorsFile(SafetensorsFile&& other) noexcept = default;
  SafetensorsFile& operator=(SafetensorsFile&& other) noexcept = default;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Metadata value, or a precis::Error saying which key is missing.
  const std::string& metadata_value(const std::string& key) const;
  // Tensors in the order of their offsets in the file.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(std::string_view name) const;
  // The tensor, or a precis::Error naming it and the file.
  const TensorInfo& get(std::string_view name) const;
  const std::string& source() const { return source_; }

 private:
  SafetensorsFile() = default;

  std::string source_;
  MappedFile mapping_;  // empty for parse(): the caller owns the bytes
  std::map<std::string, std::string> metadata_;
  std::vector<TensorInfo> tensors_;
};

// Collects tensors and metadata and writes them in one atomic step. The writer does not copy the
// tensor data: each span must stay valid until write() returns.
class SafetensorsWriter {
 public:
  void add(std::string name, Dtype dtype, std::vector<std::int64_t> shape,
           std::span<const std::byte> data);
  void add_f32(std::string name, std::vector<std::int64_t> shape, std::span<const float> data);
  void set_metadata(std::string key, std::string value);

  // The complete file image (header and data), for tests and in-memory use.
  std::string serialize() const;
  // Writes to a temporary beside `path`, fsyncs and renames: `path` is either untouched or whole.
  void write(const std::filesystem::path& path) const;

 private:
  struct Entry {
    std::string name;
    Dtype dtype;
    std::vector<std::int64_t> shape;
    std::span<const std::byte> data;
  };
  std::string header_json() const;

  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace precis::io
