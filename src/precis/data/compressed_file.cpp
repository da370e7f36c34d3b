#include "precis/data/compressed_file.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "precis/core/error.hpp"

namespace precis::data {

std::string read_maybe_compressed(const std::filesystem::path& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) fail("cannot open '{}': {}", path.string(), std::strerror(errno));
  gzbuffer(file, 1 << 17);
  std::string out;
  char chunk[1 << 16];
  for (;;) {
    int n = gzread(file, chunk, sizeof(chunk));
    if (n < 0) {
      int code = 0;
      std::string why = gzerror(file, &code);
      gzclose(file);
      fail("cannot decompress '{}': {} (the file is corrupt; reinstall its package)", path.string(),
           why);
    }
    if (n == 0) break;
    out.append(chunk, static_cast<std::size_t>(n));
  }
  // A truncated gzip stream reads as a short file without an error from gzread; gzclose reports it.
  int closed = gzclose(file);
  require(closed == Z_OK,
          "cannot decompress '{}': the stream is truncated or corrupt (reinstall "
          "its package)",
          path.string());
  return out;
}

}  // namespace precis::data
