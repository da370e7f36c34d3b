// Progress of long work: a one-line bar with rate and ETA on a terminal, periodic log lines
// otherwise (CI logs, files). Library code reports through a ProgressFn; only cli/ owns a
// ProgressBar and decides where it writes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "precis/core/timer.hpp"

namespace precis {

// done units of total so far; `detail` is a short status ("loss 2.31") shown after the bar.
using ProgressFn =
    std::function<void(std::int64_t done, std::int64_t total, const std::string& detail)>;

class ProgressBar {
 public:
  // `unit` names what is counted ("tok", "step"); `is_terminal` chooses the bar over log lines.
  ProgressBar(std::FILE* out, std::string label, std::string unit, bool is_terminal,
              double log_interval_seconds = 10.0);

  void update(std::int64_t done, std::int64_t total, const std::string& detail = "");
  // Prints the final line once (with the last update's detail unless given another).
  void finish(const std::string& detail = "");
  ProgressFn callback();

  // The text of one progress line, without terminal control codes (exposed for tests).
  static std::string format_line(const std::string& label, const std::string& unit,
                                 std::int64_t done, std::int64_t total, double seconds,
                                 const std::string& detail, int bar_width);

 private:
  void print_line(double seconds, const std::string& detail, bool final);

  std::FILE* out_;
  std::string label_;
  std::string unit_;
  bool is_terminal_;
  double log_interval_;
  Stopwatch clock_;
  double last_print_ = -1.0;
  std::int64_t done_ = 0;
  std::int64_t total_ = 0;
  std::string detail_;
  bool finished_ = false;
};

// Formats a duration as 1h02m, 3m07s or 4.2s.
std::string format_duration(double seconds);
// Formats a rate with an SI suffix: 12.3k, 4.56M.
std::string format_rate(double per_second);

}  // namespace precis
