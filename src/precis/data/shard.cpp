#include "precis/data/shard.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"

namespace precis::data {

static_assert(std::endian::native == std::endian::little,
              "token shards are little-endian and are mapped as they are on disk");

void write_shard(const std::filesystem::path& path, std::span<const std::uint16_t> tokens,
                 const ShardInfo& info) {
  require(info.vocab_size > 0 && info.vocab_size <= 65536,
          "internal: a shard needs a vocabulary size in 1..65536, got {}", info.vocab_size);
  require(tokens.size() <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
          "a shard of {} tokens is too large for the llm.c header (at most 2^31 - 1)",
          tokens.size());
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    require(tokens[i] < info.vocab_size,
            "token id {} at position {} is not below the vocabulary size {}: refusing to write {}",
            tokens[i], i, info.vocab_size, path.string());
  }
  std::array<std::int32_t, 256> header{};
  header[0] = kShardMagic;
  header[1] = kShardVersion;
  header[2] = static_cast<std::int32_t>(tokens.size());
  header[3] = kPrecisMark;
  header[4] = info.vocab_size;
  header[5] = info.eot_id;
  header[6] = info.tokenizer_id;
  AtomicFile file(path);
  file.write(header.data(), kShardHeaderBytes);
  file.write(tokens.data(), tokens.size_bytes());
  file.commit();
}

TokenShard TokenShard::open(const std::filesystem::path& path, ShardFormat format) {
  TokenShard shard;
  shard.path_ = path;
  shard.map_ = MappedFile::open(path, "token shard");
  auto bytes = shard.map_.size();
  const auto* base = reinterpret_cast<const unsigned char*>(shard.map_.bytes().data());
  const std::string name = path.string();
  if (format == ShardFormat::Raw) {
    require(bytes % 2 == 0,
            "'{}' has {} bytes, an odd number: it is not a uint16 token file (truncated?)", name,
            bytes);
    shard.tokens_ = reinterpret_cast<const std::uint16_t*>(base);
    shard.count_ = bytes / 2;
    return shard;
  }
  require(bytes >= kShardHeaderBytes,
          "'{}' is {} bytes, shorter than the 1024-byte token shard header: the file is truncated "
          "or not a shard (for a headerless nanoGPT .bin file, read it as raw: --raw)",
          name, bytes);
  std::array<std::int32_t, 256> h{};
  std::memcpy(h.data(), base, kShardHeaderBytes);
  require(h[0] == kShardMagic,
          "'{}' does not start with the token shard magic {} (found {}): the file is corrupt or "
          "not a shard (for a headerless nanoGPT .bin file, read it as raw: --raw)",
          name, kShardMagic, h[0]);
  require(h[1] == kShardVersion,
          "'{}' is a version {} shard; precis reads version {} (uint16 tokens). llm.c version 2 "
          "shards hold uint32 ids, which do not fit uint16",
          name, h[1], kShardVersion);
  require(h[2] >= 0, "'{}': the header's token count {} is negative: the file is corrupt", name,
          h[2]);
  std::size_t expect = kShardHeaderBytes + 2 * static_cast<std::size_t>(h[2]);
  require(bytes == expect,
          "'{}' is {} bytes but its header promises {} tokens ({} bytes): the file is {} (rebuild "
          "it)",
          name, bytes, h[2], expect, bytes < expect ? "truncated" : "corrupt (too long)");
  if (h[3] == kPrecisMark) {
    shard.info_ = {h[4], h[5], h[6]};
    require(shard.info_.vocab_size > 0 && shard.info_.vocab_size <= 65536,
            "'{}': the header's vocabulary size {} is invalid: the file is corrupt", name,
            shard.info_.vocab_size);
  }
  shard.has_header_ = true;
  shard.tokens_ = reinterpret_cast<const std::uint16_t*>(base + kShardHeaderBytes);
  shard.count_ = static_cast<std::size_t>(h[2]);
  return shard;
}

TokenShard::TokenShard(TokenShard&& other) noexcept { *this = std::move(other); }

TokenShard& TokenShard::operator=(TokenShard&& other) noexcept {
  if (this != &other) {
    path_ = std::move(other.path_);
    map_ = std::move(other.map_);
    tokens_ = std::exchange(other.tokens_, nullptr);
    count_ = std::exchange(other.count_, 0);
    info_ = other.info_;
    has_header_ = other.has_header_;
  }
  return *this;
}

void TokenShard::check_ids(std::int32_t vocab_size) const {
  for (std::size_t i = 0; i < count_; ++i) {
    if (tokens_[i] >= vocab_size) {
      fail(
          "'{}': token {} has id {}, not below the vocabulary size {}: the shard is corrupt or "
          "from another tokenizer",
          path_.string(), i, tokens_[i], vocab_size);
    }
  }
}

std::uint16_t TokenShard::max_id() const {
  std::uint16_t m = 0;
  for (std::size_t i = 0; i < count_; ++i) m = std::max(m, tokens_[i]);
  return m;
}

}  // namespace precis::data
