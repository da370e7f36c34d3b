// A split of a dataset as one logical token array: its shards, memory-mapped, in order.
#pragma once

#include <cstdint>
#include <vector>

#include "precis/data/shard.hpp"

namespace precis::data {

class TokenStream {
 public:
  TokenStream() = default;
  explicit TokenStream(std::vector<TokenShard> shards);

  std::int64_t size() const { return total_; }
  const std::vector<TokenShard>& shards() const { return shards_; }
  std::uint16_t at(std::int64_t i) const;
  // Copies tokens [start, start + n) (which may span shards) as int32 ids; the range must lie in
  // [0, size()).
  void copy(std::int64_t start, std::int64_t n, std::int32_t* out) const;

 private:
  std::vector<TokenShard> shards_;
  std::vector<std::int64_t> starts_;  // starts_[k]: index of shard k's first token
  std::int64_t total_ = 0;
};

}  // namespace precis::data
