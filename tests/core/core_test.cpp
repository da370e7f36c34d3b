#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "precis/core/aligned_buffer.hpp"
#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/core/progress.hpp"
#include "precis/core/threads.hpp"

namespace precis {
namespace {

TEST(AlignedBuffer, IsAlignedAndZeroed) {
  AlignedBuffer<float> b(1000);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.data()) % kCacheLine, 0u);
  for (float v : b) ASSERT_EQ(v, 0.0f);
  AlignedBuffer<float> c = b;
  c[3] = 2;
  EXPECT_EQ(b[3], 0.0f);
  AlignedBuffer<float> d = std::move(c);
  EXPECT_EQ(d[3], 2.0f);
  EXPECT_EQ(c.size(), 0u);
}

TEST(Threads, ParsesCounts) {
  EXPECT_EQ(parse_thread_count("3"), 3);
  EXPECT_EQ(parse_thread_count("all"), available_cores());
  EXPECT_THROW(parse_thread_count("-1"), Error);
  EXPECT_THROW(parse_thread_count("two"), Error);
  EXPECT_THROW(parse_thread_count("2x"), Error);
}

TEST(Threads, ParallelForCoversRangeOnce) {
  std::vector<int> hits(1000, 0);
  parallel_for(0, 1000, 2, [&](std::int64_t i) { hits[i]++; });
  for (int h : hits) ASSERT_EQ(h, 1);
}

TEST(Progress, FormatsRateAndEta) {
  // 500 of 1000 units in 10 s: 50/s, 10 s to go.
  std::string line = ProgressBar::format_line("train", "tok", 500, 1000, 10.0, "loss 2.5", 0);
  EXPECT_NE(line.find("50.0%"), std::string::npos) << line;
  EXPECT_NE(line.find("50 tok/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA 10.0s"), std::string::npos) << line;
  EXPECT_NE(line.find("loss 2.5"), std::string::npos) << line;
  EXPECT_EQ(format_duration(3725), "1h02m");
  EXPECT_EQ(format_duration(187), "3m07s");
  EXPECT_EQ(format_rate(12345), "12.3k");
}

// Everything a ProgressBar writes to a temporary file, for both the log and the terminal style.
std::string progress_output(bool is_terminal) {
  std::FILE* f = std::tmpfile();
  {
    ProgressBar bar(f, "train", "tok", is_terminal, 1e9);
    bar.update(0, 100, "start");
    bar.update(50, 100, "loss 3");
    bar.update(100, 100, "loss 2");          // the work reports completion ...
    bar.update(100, 100, "loss 2 val 2.1");  // ... and then its last detail
    bar.finish();
    bar.finish();
  }
  std::string text(4096, '\0');
  std::rewind(f);
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);
  return text;
}

TEST(Progress, PrintsTheFinalLineOnceWithTheLastDetail) {
  std::string log = progress_output(false);
  // Log style: the first update (nothing printed yet) and the final line; the 1e9 s interval
  // suppresses the middle one.
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 2) << log;
  EXPECT_EQ(log.find("100.0%"), log.rfind("100.0%")) << log;
  EXPECT_NE(log.find("100/100 tok"), std::string::npos) << log;
  EXPECT_NE(log.find("loss 2 val 2.1\n"), std::string::npos) << log;
  std::string tty = progress_output(true);
  // Terminal style: redraws in place, one newline at the end, after the last detail.
  EXPECT_EQ(std::count(tty.begin(), tty.end(), '\n'), 1) << tty;
  EXPECT_EQ(tty.substr(tty.size() - 15), "loss 2 val 2.1\n") << tty;
}

TEST(AtomicFile, CommitsWholeOrNothing) {
  auto dir = std::filesystem::temp_directory_path() / "precis_atomic_test";
  std::filesystem::create_directories(dir);
  auto target = dir / "out.txt";
  write_file_atomically(target, "first");
  {
    AtomicFile f(target);
    f.write("second, never committed");
  }  // destroyed without commit: the old contents must survive, no temporary left behind
  EXPECT_EQ(read_file(target), "first");
  int files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);
  std::filesystem::remove_all(dir);
  EXPECT_THROW(read_file(dir / "missing"), Error);
  EXPECT_THROW(AtomicFile(dir / "no_such_dir" / "x"), Error);
}

}  // namespace
}  // namespace precis
