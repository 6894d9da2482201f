// The session of the server tests: SPARK_REMOTE names the server tests/spark_connect started.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "dl/engine/spark/connection_string.hpp"
#include "dl/engine/spark/spark_session.hpp"

namespace dl::engine::spark {

/// A session with the test server, or nullptr after a failed expectation saying why.
inline std::unique_ptr<SparkSession> ServerSession() {
  auto remote = ResolveRemote("", [](const char* name) { return std::getenv(name); });
  EXPECT_TRUE(remote.ok()) << "SPARK_REMOTE must name the test server: "
                           << remote.status().ToString();
  if (!remote.ok()) return nullptr;
  auto session = SparkSession::Connect(*remote);
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  return session.ok() ? std::move(*session) : nullptr;
}

}  // namespace dl::engine::spark
