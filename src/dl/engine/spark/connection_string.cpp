#include "dl/engine/spark/connection_string.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

namespace dl::engine::spark {

namespace {

Result<std::string> PercentDecode(std::string_view text, std::string_view what) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    int value = 0;
    if (i + 2 >= text.size()) {
      return Status::InvalidArgument("Spark connection string: bad %-escape in {}", what);
    }
    auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || end != text.data() + i + 3) {
      return Status::InvalidArgument("Spark connection string: bad %-escape in {}", what);
    }
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

bool IsHeaderName(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool IsLoopback(std::string_view host) {
  return host == "localhost" || host == "::1" || host.substr(0, 4) == "127.";
}

// "host[:port]" or "[v6]:port" into remote->host / port.
Status ParseAuthority(std::string_view authority, SparkRemote* remote) {
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("Spark connection string: unclosed '[' in host '{}'",
                                     authority);
    }
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return Status::InvalidArgument("Spark connection string: bad host '{}'", authority);
    }
    if (!rest.empty()) port = rest.substr(1);
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return Status::InvalidArgument("Spark connection string: the host is empty");
  remote->host = std::string(host);
  if (port.empty()) return Status::OK();
  int value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
    return Status::InvalidArgument("Spark connection string: bad port '{}'", port);
  }
  remote->port = value;
  return Status::OK();
}

Result<bool> ParseBool(std::string_view key, std::string_view value) {
  if (value == "true") return true;
  if (value == "false") return false;
  return Status::InvalidArgument("Spark connection string: {} must be true or false, not '{}'", key,
                                 value);
}

// One "key=value" parameter into remote; use_ssl receives an explicit use_ssl.
Status ApplyParam(std::string_view param, SparkRemote* remote, std::optional<bool>* use_ssl) {
  size_t eq = param.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    // Not echoed: a mistyped parameter may hold the token.
    return Status::InvalidArgument("Spark connection string: a parameter is not key=value");
  }
  std::string key(param.substr(0, eq));
  DL_ASSIGN_OR_RETURN(std::string value, PercentDecode(param.substr(eq + 1), key));
  if (key == "token") {
    remote->token = std::move(value);
  } else if (key == "use_ssl") {
    DL_ASSIGN_OR_RETURN(bool b, ParseBool(key, value));
    *use_ssl = b;
  } else if (key == "user_id") {
    remote->user_id = std::move(value);
  } else if (key == "user_agent") {
    remote->user_agent = std::move(value);
  } else if (key == "session_id") {
    if (!IsUuid(value)) {
      return Status::InvalidArgument("Spark connection string: session_id '{}' is not a UUID",
                                     value);
    }
    remote->session_id = std::move(value);
  } else if (IsHeaderName(key)) {
    remote->headers[key] = std::move(value);
  } else {
    return Status::InvalidArgument(
        "Spark connection string: parameter '{}' is not a valid header name (lower case "
        "letters, digits, '-', '_', '.')",
        key);
  }
  return Status::OK();
}

}  // namespace

std::string SparkRemote::Endpoint() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string SparkRemote::Redacted() const {
  std::string out = fmt::format("sc://{}/", Endpoint());
  if (!token.empty()) out += ";token=***";
  if (use_ssl) out += ";use_ssl=true";
  if (!use_ssl && !token.empty()) out += ";use_ssl=false";  // not the default with a token
  if (!user_id.empty()) out += ";user_id=" + user_id;
  if (!user_agent.empty()) out += ";user_agent=" + user_agent;
  if (!session_id.empty()) out += ";session_id=" + session_id;
  for (const auto& [k, v] : headers) out += fmt::format(";{}={}", k, v);
  return out;
}

Result<SparkRemote> ParseConnectionString(std::string_view text) {
  constexpr std::string_view kScheme = "sc://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument(
        "Spark connection string must start with 'sc://' (sc://host[:port]/;param=value)");
  }
  std::string_view rest = text.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view params = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  SparkRemote remote;
  DL_RETURN_IF_ERROR(ParseAuthority(authority, &remote));
  if (!params.empty() && params.front() != ';') {
    return Status::InvalidArgument(
        "Spark connection string: unexpected path '/{}' (parameters follow '/;')",
        params.substr(0, params.find(';')));
  }
  std::optional<bool> use_ssl;
  while (!params.empty()) {
    params.remove_prefix(1);  // the ';'
    size_t next = params.find(';');
    std::string_view param = params.substr(0, next);
    if (!param.empty()) DL_RETURN_IF_ERROR(ApplyParam(param, &remote, &use_ssl));
    params = next == std::string_view::npos ? "" : params.substr(next);
  }
  // A token travels only over TLS, except to this machine when use_ssl=false says so.
  remote.use_ssl = use_ssl.value_or(!remote.token.empty());
  if (!remote.token.empty() && !remote.use_ssl && !IsLoopback(remote.host)) {
    return Status::InvalidArgument(
        "Spark connection string: a token is sent only over TLS; use_ssl=false with a token "
        "is allowed for a loopback host only, not '{}'",
        remote.host);
  }
  return remote;
}

Result<std::optional<SparkRemote>> RemoteFromEnvironment(const GetEnv& getenv) {
  auto get = [&](const char* name) -> std::string {
    const char* v = getenv(name);
    return v ? v : "";
  };
  if (std::string remote = get("SPARK_REMOTE"); !remote.empty()) {
    auto parsed = ParseConnectionString(remote);
    if (!parsed.ok()) return parsed.status().WithContext("SPARK_REMOTE");
    return std::optional<SparkRemote>(std::move(*parsed));
  }
  std::string host = get("DATABRICKS_HOST");
  if (host.empty()) return std::optional<SparkRemote>();
  for (const char* name : {"DATABRICKS_TOKEN", "DATABRICKS_CLUSTER_ID"}) {
    if (get(name).empty()) {
      return Status::InvalidArgument("DATABRICKS_HOST is set but {} is not", name);
    }
  }
  for (std::string_view scheme : {"https://", "http://"}) {
    if (host.rfind(scheme, 0) == 0) host.erase(0, scheme.size());
  }
  while (!host.empty() && host.back() == '/') host.pop_back();
  SparkRemote remote;
  Status st = ParseAuthority(host, &remote);
  if (!st.ok() || host.find('/') != std::string::npos) {
    return Status::InvalidArgument("DATABRICKS_HOST: '{}' is not a host name", host);
  }
  if (host.find(':') == std::string::npos) remote.port = 443;
  remote.token = get("DATABRICKS_TOKEN");
  remote.use_ssl = true;
  remote.headers["x-databricks-cluster-id"] = get("DATABRICKS_CLUSTER_ID");
  return std::optional<SparkRemote>(std::move(remote));
}

Result<SparkRemote> ResolveRemote(std::string_view configured, const GetEnv& getenv) {
  if (!configured.empty()) return ParseConnectionString(configured);
  DL_ASSIGN_OR_RETURN(std::optional<SparkRemote> remote, RemoteFromEnvironment(getenv));
  if (!remote) {
    return Status::NotFound(
        "no Spark Connect remote: set spark.remote in the config, SPARK_REMOTE, or "
        "DATABRICKS_HOST + DATABRICKS_TOKEN + DATABRICKS_CLUSTER_ID");
  }
  return std::move(*remote);
}

}  // namespace dl::engine::spark
