#include "precis/data/token_stream.hpp"

#include <algorithm>

#include "precis/core/error.hpp"

namespace precis::data {

TokenStream::TokenStream(std::vector<TokenShard> shards) : shards_(std::move(shards)) {
  for (const auto& s : shards_) {
    starts_.push_back(total_);
    total_ += static_cast<std::int64_t>(s.size());
  }
}

std::uint16_t TokenStream::at(std::int64_t i) const {
  require(i >= 0 && i < total_, "internal: token {} of a stream of {}", i, total_);
  auto k = static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), i) -
                                    starts_.begin() - 1);
  return shards_[k].tokens()[static_cast<std::size_t>(i - starts_[k])];
}

void TokenStream::copy(std::int64_t start, std::int64_t n, std::int32_t* out) const {
  require(start >= 0 && n >= 0 && start + n <= total_,
          "internal: tokens [{}, {}) of a stream of {}", start, start + n, total_);
  if (n == 0) return;
  auto k = static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), start) -
                                    starts_.begin() - 1);
  while (n > 0) {
    // Skip empty shards, whose start equals the next one's.
    while (static_cast<std::int64_t>(shards_[k].size()) <= start - starts_[k]) ++k;
    auto tokens = shards_[k].tokens();
    auto offset = static_cast<std::size_t>(start - starts_[k]);
    auto take = std::min<std::int64_t>(n, static_cast<std::int64_t>(tokens.size() - offset));
    for (std::int64_t j = 0; j < take; ++j) out[j] = tokens[offset + j];
    out += take;
    start += take;
    n -= take;
  }
}

}  // namespace precis::data
