// A loaded, validated config shared by the Python objects that use it (never changed once
// loaded: a run works on its own copy).
#pragma once

#include <memory>
#include <string>

#include "dl/common/status.hpp"
#include "dl/config/loader_config.hpp"
#include "native.hpp"

namespace dl::python {

struct NativeConfig {
  std::shared_ptr<const config::LoaderConfig> cfg;
};

/// A failed Status as a Python exception: ValueError for usage and config errors, else
/// RuntimeError; the message with the config's ${ENV} values masked.
[[noreturn]] void Raise(const Status& status, const config::LoaderConfig* cfg = nullptr);

}  // namespace dl::python
