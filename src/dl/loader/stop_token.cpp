#include "dl/loader/stop_token.hpp"

#include <csignal>

namespace dl::loader {
namespace {

std::atomic<StopToken*> g_token{nullptr};

extern "C" void OnStopSignal(int signal_number) {
  if (StopToken* t = g_token.load()) t->OnSignal(signal_number);
}

}  // namespace

void InstallSignalHandlers(StopToken& token) {
  g_token.store(&token);
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace dl::loader
