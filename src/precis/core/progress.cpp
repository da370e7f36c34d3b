#include "precis/core/progress.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

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

namespace {

// Columns of the terminal behind `out` (0 if unknown): a redrawn line must not wrap, or the
// carriage return only rewinds its last row and every earlier row stays on screen.
int terminal_columns(std::FILE* out) {
  winsize ws{};
  if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0) return ws.ws_col;
  return 0;
}

// Cuts `line` to at most `columns` - 1 bytes (the last column would wrap on some terminals),
// never inside a UTF-8 sequence.
std::string fit_to_columns(std::string line, int columns) {
  if (columns <= 1 || line.size() < static_cast<std::size_t>(columns)) return line;
  std::size_t cut = static_cast<std::size_t>(columns - 1);
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
  line.resize(cut);
  return line;
}

}  // namespace

void ProgressBar::update(std::int64_t done, std::int64_t total, const std::string& detail) {
  done_ = done;
  total_ = total;
  detail_ = detail;
  // A log gets the final line from finish() only: printing it here too doubled it whenever the
  // work reported completion (or a last detail, such as the validation loss) before finish().
  if (!is_terminal_ && done >= total) return;
  double now = clock_.seconds();
  // A terminal redraws at most 10 times a second; a log gets a line every log_interval_.
  double interval = is_terminal_ ? 0.1 : log_interval_;
  if (last_print_ >= 0 && now - last_print_ < interval && done < total) return;
  last_print_ = now;
  print_line(now, detail, false);
}

void ProgressBar::print_line(double seconds, const std::string& detail, bool final) {
  std::string line =
      format_line(label_, unit_, done_, total_, seconds, detail, is_terminal_ ? 24 : 0);
  if (is_terminal_) {
    // Redraw in place: clear the row, and keep the line within it so it cannot wrap.
    fmt::print(out_, "\r\033[K{}{}", fit_to_columns(line, terminal_columns(out_)),
               final ? "\n" : "");
  } else {
    fmt::print(out_, "{}\n", line);
  }
  std::fflush(out_);
}

void ProgressBar::finish(const std::string& detail) {
  if (finished_) return;
  finished_ = true;
  print_line(clock_.seconds(), detail.empty() ? detail_ : detail, true);
}

ProgressFn ProgressBar::callback() {
  return [this](std::int64_t done, std::int64_t total, const std::string& detail) {
    update(done, total, detail);
  };
}

}  // namespace precis
