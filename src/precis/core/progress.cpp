#include "precis/core/progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace precis {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  auto s = static_cast<long long>(seconds + 0.5);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string format_rate(double per_second) {
  if (!std::isfinite(per_second)) return "?";
  const char* suffix[] = {"", "k", "M", "G", "T"};
  int i = 0;
  while (std::abs(per_second) >= 1000 && i < 4) {
    per_second /= 1000;
    ++i;
  }
  return fmt::format("{:.3g}{}", per_second, suffix[i]);
}

std::string ProgressBar::format_line(const std::string& label, const std::string& unit,
                                     std::int64_t done, std::int64_t total, double seconds,
                                     const std::string& detail, int bar_width) {
  double fraction = total > 0 ? std::clamp(static_cast<double>(done) / total, 0.0, 1.0) : 0.0;
  double rate = seconds > 0 ? done / seconds : 0.0;
  double eta = rate > 0 && total > 0 ? (total - done) / rate : NAN;
  std::string bar;
  if (bar_width > 0) {
    int filled = static_cast<int>(fraction * bar_width);
    bar = fmt::format("[{:#<{}}{:.<{}}] ", "", filled, "", bar_width - filled);
  }
  std::string line = fmt::format("{} {}{:5.1f}% {}/{} {} | {} {}/s | elapsed {} | ETA {}", label,
                                 bar, 100 * fraction, done, total, unit, format_rate(rate), unit,
                                 format_duration(seconds), format_duration(eta));
  if (!detail.empty()) line += " | " + detail;
  return line;
}

ProgressBar::ProgressBar(std::FILE* out, std::string label, std::string unit, bool is_terminal,
                         double log_interval_seconds)
    : out_(out),
      label_(std::move(label)),
      unit_(std::move(unit)),
      is_terminal_(is_terminal),
      log_interval_(log_interval_seconds) {}

void ProgressBar::update(std::int64_t done, std::int64_t total, const std::string& detail) {
  done_ = done;
  total_ = total;
  double now = clock_.seconds();
  // A terminal redraws at most 10 times a second; a log gets a line every log_interval_.
  double interval = is_terminal_ ? 0.1 : log_interval_;
  if (last_print_ >= 0 && now - last_print_ < interval && done < total) return;
  last_print_ = now;
  std::string line = format_line(label_, unit_, done, total, now, detail, is_terminal_ ? 24 : 0);
  if (is_terminal_) {
    fmt::print(out_, "\r\033[K{}", line);
  } else {
    fmt::print(out_, "{}\n", line);
  }
  std::fflush(out_);
}

void ProgressBar::finish(const std::string& detail) {
  if (finished_) return;
  finished_ = true;
  std::string line =
      format_line(label_, unit_, done_, total_, clock_.seconds(), detail, is_terminal_ ? 24 : 0);
  if (is_terminal_) {
    fmt::print(out_, "\r\033[K{}\n", line);
  } else {
    fmt::print(out_, "{}\n", line);
  }
  std::fflush(out_);
}

ProgressFn ProgressBar::callback() {
  return [this](std::int64_t done, std::int64_t total, const std::string& detail) {
    update(done, total, detail);
  };
}

}  // namespace precis
