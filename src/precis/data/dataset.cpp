#include "precis/data/dataset.hpp"

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/data/sha256.hpp"
#include "precis/data/unigram.hpp"

namespace precis::data {
namespace fs = std::filesystem;

std::int32_t tokenizer_id(const nlohmann::json& tokenizer_metadata) {
  std::string hex = sha256_hex(tokenizer_metadata.dump()).substr(0, 8);
  return static_cast<std::int32_t>(std::stoul(hex, nullptr, 16) & 0x7FFFFFFFu);
}

nlohmann::json read_manifest(const fs::path& dir) {
  fs::path path = dir / kManifestFile;
  require(fs::exists(path),
          "{} has no {}: it is not a finished precis dataset (build one with `precis data build "
          "--out {}`)",
          dir.string(), kManifestFile, dir.string());
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail("{} is not valid JSON ({}): rebuild the dataset", path.string(), e.what());
  }
  require(m.is_object() && m.value("format", "") == kManifestFormat,
          "{} is not a precis dataset manifest: rebuild the dataset", path.string());
  require(m.value("version", 0) == kManifestVersion,
          "{} has manifest version {}; this precis reads version {}: rebuild the dataset",
          path.string(), m.value("version", 0), kManifestVersion);
  return m;
}

namespace {

TokenStream open_split(const fs::path& dir, const nlohmann::json& split, const char* name,
                       int vocab, std::int32_t tok_id, bool check_ids) {
  std::vector<TokenShard> shards;
  for (const auto& entry : split.at("shards")) {
    fs::path path = dir / entry.at("file").get<std::string>();
    require(fs::exists(path),
            "the {} shard {} listed in the manifest is missing: rebuild the "
            "dataset",
            name, path.string());
    TokenShard shard = TokenShard::open(path, ShardFormat::Header);
    auto want = entry.at("tokens").get<std::int64_t>();
    require(static_cast<std::int64_t>(shard.size()) == want,
            "{} holds {} tokens but the manifest says {}: the dataset is inconsistent (rebuild it)",
            path.string(), shard.size(), want);
    require(shard.info().vocab_size == vocab && shard.info().tokenizer_id == tok_id,
            "{} was made with another tokenizer (vocab {}, id {}) than the manifest's (vocab {}, "
            "id {}): rebuild the dataset",
            path.string(), shard.info().vocab_size, shard.info().tokenizer_id, vocab, tok_id);
    if (check_ids) shard.check_ids(vocab);
    shards.push_back(std::move(shard));
  }
  return TokenStream(std::move(shards));
}

}  // namespace

Dataset Dataset::open(const fs::path& dir, bool check_ids) {
  require(fs::is_directory(dir),
          "the dataset folder {} does not exist (build it with `precis data "
          "build --out {}`)",
          dir.string(), dir.string());
  Dataset d;
  d.dir_ = dir;
  if (!fs::exists(dir / kManifestFile) && fs::exists(dir / "train.bin") &&
      fs::exists(dir / "val.bin")) {
    // nanoGPT layout: headerless uint16 arrays.
    std::vector<TokenShard> train, val;
    train.push_back(TokenShard::open(dir / "train.bin", ShardFormat::Raw));
    val.push_back(TokenShard::open(dir / "val.bin", ShardFormat::Raw));
    d.vocab_size_ = std::max(train[0].max_id(), val[0].max_id()) + 1;
    auto counts = count_tokens(train[0].tokens(), d.vocab_size_);
    d.unigram_entropy_ = data::unigram_entropy_nats(counts);
    d.train_ = TokenStream(std::move(train));
    d.val_ = TokenStream(std::move(val));
    d.manifest_ = {{"format", "nanogpt"}, {"vocab_size", d.vocab_size_}};
    return d;
  }
  d.manifest_ = read_manifest(dir);
  try {
    const auto& tok = d.manifest_.at("tokenizer");
    d.vocab_size_ = tok.at("vocab_size").get<int>();
    d.eot_id_ = tok.at("eot_id").get<int>();
    auto id = tok.at("id").get<std::int32_t>();
    d.unigram_entropy_ = d.manifest_.at("unigram_entropy_nats").get<double>();
    d.train_ = open_split(dir, d.manifest_.at("splits").at("train"), "train", d.vocab_size_, id,
                          check_ids);
    d.val_ =
        open_split(dir, d.manifest_.at("splits").at("val"), "val", d.vocab_size_, id, check_ids);
  } catch (const nlohmann::json::exception& e) {
    fail("{}/{} lacks a field precis needs ({}): rebuild the dataset", dir.string(), kManifestFile,
         e.what());
  }
  return d;
}

double Dataset::bytes_per_token(Split s) const {
  const char* name = s == Split::Train ? "train" : "val";
  if (!manifest_.contains("splits")) return 0.0;
  const auto& split = manifest_["splits"][name];
  auto tokens = split.value("tokens", std::int64_t{0});
  auto bytes = split.value("bytes", std::int64_t{0});
  return tokens > 0 ? static_cast<double>(bytes) / static_cast<double>(tokens) : 0.0;
}

std::string Dataset::corpus_sha256() const {
  if (!manifest_.contains("corpus")) return "";
  return manifest_["corpus"].value("sha256", "");
}

std::unique_ptr<Tokenizer> Dataset::tokenizer() const {
  require(manifest_.contains("tokenizer"),
          "{} is a nanoGPT folder without a manifest: its tokenizer is unknown", dir_.string());
  return load_tokenizer(manifest_["tokenizer"], dir_);
}

}  // namespace precis::data
