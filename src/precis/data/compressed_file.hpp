// Reading corpus files that may be gzip-compressed (.gz, and dictd's .dz, which is gzip with an
// index in an extra header field) or plain: zlib reads both transparently.
#pragma once

#include <filesystem>
#include <string>

namespace precis::data {

// The whole decompressed content; throws precis::Error naming the file on any failure.
std::string read_maybe_compressed(const std::filesystem::path& path);

}  // namespace precis::data
