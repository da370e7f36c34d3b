// GgufWriter: builds a GGUF version 3 file (little-endian) from metadata and already-encoded
// tensor bytes, and writes it atomically.
//
// The caller passes each tensor's bytes in its ggml type's layout (quantized elsewhere, by
// formats/); the writer checks that the byte count matches the shape and type, and lays the data
// out as llama.cpp expects: tensors in the order added, each starting at a multiple of the
// alignment and padded with zeros to the next one. The alignment is general.alignment when the
// caller sets it (as UINT32), else GGUF's default 32, which is then not written (as gguf-py does).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "precis/formats/spec.hpp"
#include "precis/io/gguf_value.hpp"

namespace precis::io {

class GgufWriter {
 public:
  // Adds a key, or replaces the value of one already set (keeping its place). general.alignment
  // must be a UINT32 power of two.
  void set(std::string key, GgufValue value);
  void set_alignment(std::uint32_t alignment) { set("general.alignment", alignment); }
  std::uint32_t alignment() const { return alignment_; }

  // dims in ggml order (dims[0] = row length). The bytes are not copied: `data` must stay valid
  // until write() or serialize() returns. Throws precis::Error on a duplicate or over-long name,
  // more than 4 dims, a row that is not whole blocks, or a byte count that does not match.
  void add_tensor(std::string name, std::vector<std::uint64_t> dims, formats::GgufType type,
                  std::span<const std::byte> data);
  void add_f32(std::string name, std::vector<std::uint64_t> dims, std::span<const float> data);

  // Size of the whole file.
  std::uint64_t file_bytes() const;
  // The complete file image, for tests and in-memory use.
  std::string serialize() const;
  // Writes to a temporary beside `path`, fsyncs and renames: `path` is either untouched or whole.
  void write(const std::filesystem::path& path) const;

 private:
  struct Tensor {
    std::string name;
    std::vector<std::uint64_t> dims;
    formats::GgufType type;
    std::span<const std::byte> data;
  };
  template <typename Sink>
  void emit(Sink&& sink) const;

  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::map<std::string, std::size_t, std::less<>> key_index_;
  std::vector<Tensor> tensors_;
  std::map<std::string, std::size_t, std::less<>> tensor_index_;
  std::uint32_t alignment_ = 32;
};

}  // namespace precis::io
