#include "precis/core/threads.hpp"

#include <sched.h>

#include <charconv>
#include <thread>

#include "precis/core/error.hpp"

namespace precis {

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

int parse_thread_count(std::string_view text) {
  if (text == "all" || text == "0") return available_cores();
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  require(ec == std::errc() && end == text.data() + text.size() && n > 0,
          "--threads '{}' is not a thread count: give a positive number, or 'all' for every core "
          "({} here)",
          text, available_cores());
  return n;
}

}  // namespace precis
