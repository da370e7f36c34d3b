// A dataset: a folder with train/val token shards, the tokenizer's files, and manifest.json that
// records how it was made (recipe, corpus checksum, tokenizer) and what training and evaluation
// need (token and byte counts per split, for bits per byte; the unigram entropy). Manifest keys
// are documented in docs/data.md.
//
// A folder of nanoGPT's headerless train.bin and val.bin (no manifest) opens too; its vocabulary
// is then the largest id + 1 and the byte counts are unknown (0).
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "precis/data/token_stream.hpp"
#include "precis/data/tokenizer.hpp"

namespace precis::data {

inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kManifestFormat = "precis-dataset";
inline constexpr int kManifestVersion = 1;

enum class Split { Train, Val };

class Dataset {
 public:
  // Maps every shard and checks it against the manifest (counts, vocabulary, tokenizer id; with
  // check_ids every token id too). Errors name the file and say what to do.
  static Dataset open(const std::filesystem::path& dir, bool check_ids = true);

  const std::filesystem::path& dir() const { return dir_; }
  const nlohmann::json& manifest() const { return manifest_; }
  const TokenStream& split(Split s) const { return s == Split::Train ? train_ : val_; }
  int vocab_size() const { return vocab_size_; }
  int eot_id() const { return eot_id_; }  // -1 when unknown (nanoGPT folder)
  // Bytes of text per token of the split (0 when unknown): bits per byte = loss / ln 2 / this.
  double bytes_per_token(Split s) const;
  // Order-0 entropy of the train split, nats per token.
  double unigram_entropy_nats() const { return unigram_entropy_; }
  std::string corpus_sha256() const;
  // The tokenizer that made the shards (an error for a nanoGPT folder, which does not say).
  std::unique_ptr<Tokenizer> tokenizer() const;

 private:
  std::filesystem::path dir_;
  nlohmann::json manifest_;
  TokenStream train_, val_;
  int vocab_size_ = 0;
  int eot_id_ = -1;
  double unigram_entropy_ = 0.0;
};

// The manifest of a dataset folder, parsed, with an actionable error when missing or invalid.
nlohmann::json read_manifest(const std::filesystem::path& dir);

// 31 bits of sha256 of the tokenizer's metadata JSON: stored in every shard header.
std::int32_t tokenizer_id(const nlohmann::json& tokenizer_metadata);

}  // namespace precis::data
