#include "dl/monitoring/progress.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "dl/common/logging.hpp"
#include "dl/monitoring/run_metrics.hpp"

namespace dl::monitoring {
namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr const char* kClearLine = "\r\x1b[K";

// A line wider than the terminal wraps and \r can no longer redraw it.
size_t TerminalWidth(FILE* out) {
  struct winsize ws {};
  if (::ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1) return ws.ws_col - 1;
  return 0;  // unknown: no limit
}

}  // namespace

Progress::Progress(bool enabled, FILE* out)
    : enabled_(enabled && out != nullptr), out_(out), start_(std::chrono::steady_clock::now()) {
  if (!enabled_) return;
  if (out_ == stderr) log::SetStderrProgressActive(true);
  thread_ = std::thread([this] { Loop(); });
}

Progress::~Progress() { Stop(); }

void Progress::AddPlanned(int64_t files, int64_t bytes) {
  planned_files_ += files;
  planned_bytes_ += bytes;
}

void Progress::FileDone(int64_t files, int64_t rows, int64_t bytes) {
  done_files_ += files;
  done_rows_ += rows;
  done_bytes_ += bytes;
}

void Progress::FileFailed(int64_t files) { failed_files_ += files; }

void Progress::SetCurrent(std::string label) {
  std::lock_guard<std::mutex> lock(mu_);
  label_ = std::move(label);
}

std::string Progress::Render() const {
  std::string label;
  {
    std::lock_guard<std::mutex> lock(mu_);
    label = label_;
  }
  const int64_t failed = failed_files_.load();
  const int64_t done = done_files_.load() + failed;
  const int64_t planned = planned_files_.load();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line;
  if (!label.empty()) line += "[" + label + "] ";
  line += planned > 0 ? fmt::format("{}/{} files", done, planned) : fmt::format("{} files", done);
  line += fmt::format(", {} rows", HumanCount(static_cast<double>(done_rows_.load())));
  if (const int64_t bytes = done_bytes_.load(); bytes > 0) line += ", " + HumanBytes(bytes);
  line += fmt::format(", {} files/s", HumanCount(elapsed > 0 ? done / elapsed : 0.0));
  if (failed > 0) line += fmt::format(", {} failed", failed);
  return line;
}

void Progress::Draw(const std::string& line) {
  std::string text = line;
  if (size_t width = TerminalWidth(out_); width > 0 && text.size() > width) text.resize(width);
  std::fputs(kClearLine, out_);
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

void Progress::Loop() {
  std::string last;
  auto last_draw = std::chrono::steady_clock::time_point{};
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopped_) {
    lock.unlock();
    std::string line = Render();
    auto now = std::chrono::steady_clock::now();
    // Redraw on change, and at least once a second so the rate stays current.
    if (line != last || now - last_draw >= std::chrono::seconds(1)) {
      Draw(line);
      last = std::move(line);
      last_draw = now;
    }
    lock.lock();
    cv_.wait_for(lock, kRedrawInterval, [this] { return stopped_; });
  }
}

void Progress::Stop() {
  if (!enabled_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Draw the final counts once, then clear the line so the summary starts on a clean line.
  Draw(Render());
  std::fputs(kClearLine, out_);
  std::fflush(out_);
  if (out_ == stderr) log::SetStderrProgressActive(false);
}

bool StderrIsTerminal() {
  if (!::isatty(fileno(stderr))) return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

}  // namespace dl::monitoring
