// Writing files so that a crash or a bad input never leaves a half-written one: the bytes go to a
// temporary name beside the target, are fsync'ed, and are renamed over the target only when
// complete. A reader sees either the old file or the whole new one.
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace precis {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();  // discards the temporary unless commit() ran
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t bytes);
  void write(std::string_view text) { write(text.data(), text.size()); }
  std::size_t bytes_written() const { return written_; }
  // Flushes, fsyncs, renames onto the target and fsyncs the directory.
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  std::FILE* file_ = nullptr;
  std::size_t written_ = 0;
  bool committed_ = false;
};

// Writes a whole file atomically.
void write_file_atomically(const std::filesystem::path& target, std::string_view contents);

// Reads a whole file, with an error that names the file when it cannot.
std::string read_file(const std::filesystem::path& path);

}  // namespace precis
