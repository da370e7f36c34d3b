// precis::Error: the one exception type library code throws.
//
// A message says what went wrong, where, and what the user can do about it; the CLI prints it
// verbatim and exits non-zero. Library code never prints.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace precis {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws precis::Error with a formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Checks a condition that depends on user input (not an internal invariant).
template <typename... Args>
void require(bool condition, fmt::format_string<Args...> format, Args&&... args) {
  if (!condition) fail(format, std::forward<Args>(args)...);
}

}  // namespace precis
