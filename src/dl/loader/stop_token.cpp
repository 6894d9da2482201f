#include "dl/loader/stop_token.hpp"

#include <csignal>

namespace dl::loader {
namespace {

std::atomic<StopToken*> g_token{nullptr};

extern "C" void OnStopSignal(int signal_number) {
  if (StopToken* t = g_token.load()) t->OnSignal(signal_number);
}

}  // namespace

ScopedSignalHandlers::ScopedSignalHandlers(StopToken& token)
    : previous_token_(g_token.exchange(&token)) {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &previous_int_);
  sigaction(SIGTERM, &sa, &previous_term_);
}

ScopedSignalHandlers::~ScopedSignalHandlers() {
  sigaction(SIGINT, &previous_int_, nullptr);
  sigaction(SIGTERM, &previous_term_, nullptr);
  g_token.store(previous_token_);
}

}  // namespace dl::loader
