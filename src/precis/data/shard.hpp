// Token shards: flat little-endian uint16 token ids behind llm.c's 1024-byte header, written
// atomically and memory-mapped for reading. Headerless nanoGPT .bin files (just the uint16 array)
// are read when asked for with ShardFormat::Raw.
//
// Header: 256 little-endian int32 slots. llm.c's: [0] magic 20240520, [1] version 1 (uint16
// tokens), [2] token count. precis adds, marked by [3] == kPrecisMark ("PRCS"):
//   [4] vocabulary size (every id is below it)   [5] end-of-document id (-1: none)
//   [6] tokenizer id: the first 31 bits of sha256 of the tokenizer's metadata JSON
// Every other slot is 0. llm.c's readers ignore slots past [2], so its tools read precis shards.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

#include "precis/core/mapped_file.hpp"

namespace precis::data {

inline constexpr std::int32_t kShardMagic = 20240520;
inline constexpr std::int32_t kShardVersion = 1;
inline constexpr std::int32_t kPrecisMark = 0x53435250;  // "PRCS" read as a little-endian int32
inline constexpr std::size_t kShardHeaderBytes = 256 * sizeof(std::int32_t);

// What a shard's header says besides the token count (zeros / -1 when it does not say).
struct ShardInfo {
  std::int32_t vocab_size = 0;  // 0: unknown (llm.c shard or raw file)
  std::int32_t eot_id = -1;
  std::int32_t tokenizer_id = 0;
};

enum class ShardFormat {
  Header,  // llm.c header required (precis's own shards, llm.c's)
  Raw,     // a headerless nanoGPT uint16 array
};

// Writes `tokens` with a header, atomically. Every id must be below info.vocab_size (> 0), and the
// count must fit the header's int32.
void write_shard(const std::filesystem::path& path, std::span<const std::uint16_t> tokens,
                 const ShardInfo& info);

// A read-only memory map of one shard; movable, not copyable.
class TokenShard {
 public:
  // Validates the header (magic, version, count against the file size) or, for Raw, that the
  // size is a whole number of tokens; throws precis::Error that names the file and the problem.
  static TokenShard open(const std::filesystem::path& path,
                         ShardFormat format = ShardFormat::Header);

  TokenShard(TokenShard&& other) noexcept;
  TokenShard& operator=(TokenShard&& other) noexcept;
  TokenShard(const TokenShard&) = delete;
  TokenShard& operator=(const TokenShard&) = delete;

  std::span<const std::uint16_t> tokens() const { return {tokens_, count_}; }
  std::size_t size() const { return count_; }
  const ShardInfo& info() const { return info_; }
  bool has_header() const { return has_header_; }
  const std::filesystem::path& path() const { return path_; }

  // Throws if any id is >= vocab_size (names the first offending position).
  void check_ids(std::int32_t vocab_size) const;
  // The largest id in the shard (0 for an empty one).
  std::uint16_t max_id() const;

 private:
  TokenShard() = default;
  std::filesystem::path path_;
  MappedFile map_;
  const std::uint16_t* tokens_ = nullptr;
  std::size_t count_ = 0;
  ShardInfo info_;
  bool has_header_ = false;
};

}  // namespace precis::data
