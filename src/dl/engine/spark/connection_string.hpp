// Where the Spark engine connects: a Spark Connect connection string
// (sc://host[:port]/;param=value;...), SPARK_REMOTE, or Databricks Connect's environment
// (DATABRICKS_HOST + DATABRICKS_TOKEN + DATABRICKS_CLUSTER_ID).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "dl/common/status.hpp"

namespace dl::engine::spark {

inline constexpr int kDefaultSparkConnectPort = 15002;

struct SparkRemote {
  std::string host;
  int port = kDefaultSparkConnectPort;
  std::string token;       ///< bearer token; empty: none. Never printed.
  bool use_ssl = false;    ///< TLS; a token implies it unless use_ssl=false on a loopback host
  std::string user_id;     ///< UserContext.user_id; empty: the local user's name
  std::string user_agent;  ///< sent as the client type
  std::string session_id;  ///< a UUID to join; empty: a new session
  /// Every other parameter, sent as a gRPC metadata header (x-databricks-cluster-id, ...).
  std::map<std::string, std::string> headers;

  /// host:port ([host]:port for IPv6), for messages.
  std::string Endpoint() const;
  /// The connection string with the token replaced by "***": safe for logs and errors.
  std::string Redacted() const;
};

/// Parse a Spark Connect connection string. InvalidArgument naming the bad part.
Result<SparkRemote> ParseConnectionString(std::string_view text);

using GetEnv = std::function<const char*(const char*)>;

/// The remote the environment names: SPARK_REMOTE, else DATABRICKS_HOST with
/// DATABRICKS_TOKEN and DATABRICKS_CLUSTER_ID (sc://<host>:443/;token=...;
/// x-databricks-cluster-id=...). nullopt when neither is set; InvalidArgument naming the
/// variable when one is malformed or a Databricks variable is missing.
Result<std::optional<SparkRemote>> RemoteFromEnvironment(const GetEnv& getenv);

/// `configured` (a connection string from the config; may be empty) when given, else the
/// environment's remote. NotFound saying where a remote can be given when there is none.
Result<SparkRemote> ResolveRemote(std::string_view configured, const GetEnv& getenv);

}  // namespace dl::engine::spark
