// MappedFile: a whole regular file mapped read-only, unmapped when the owner goes away. The file
// readers (safetensors, GGUF, token shards) validate the bytes in place instead of copying them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>

namespace precis {

class MappedFile {
 public:
  // Maps `path`; `what` names the kind of file in errors ("token shard", "GGUF file"). An empty
  // file maps to an empty span.
  static MappedFile open(const std::filesystem::path& path, std::string_view what);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {static_cast<const std::byte*>(data_), size_}; }
  std::size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace precis
