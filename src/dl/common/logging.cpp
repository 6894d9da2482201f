#include "dl/common/logging.hpp"

#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <memory>
#include <mutex>

#include "dl/common/clock.hpp"

namespace dl::log {
namespace {

// Sends each formatted record to a callback; base_sink's mutex serializes the calls.
class CallbackSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit CallbackSink(std::function<void(const std::string&)> fn) : fn_(std::move(fn)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    fn_(std::string(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  std::function<void(const std::string&)> fn_;
};

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarning:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

struct State {
  std::mutex mu;  // guards logger (swapped by Configure/SetSinkForTesting)
  std::shared_ptr<spdlog::logger> logger;
  bool test_sink = false;
  std::atomic<Level> level{Level::kInfo};
  std::atomic<Format> format{Format::kText};
  std::atomic<bool> progress_active{false};
};

State& GetState() {
  static State* state = new State();  // never destroyed: logging may happen during exit
  return *state;
}

// Our records are fully formatted before they reach spdlog, so the pattern is the payload.
std::shared_ptr<spdlog::logger> MakeLogger(spdlog::sink_ptr sink, Level level) {
  auto logger = std::make_shared<spdlog::logger>("dl", std::move(sink));
  logger->set_pattern("%v");
  logger->set_level(ToSpdlog(level));
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::shared_ptr<spdlog::logger> CurrentLogger(bool* test_sink) {
  State& st = GetState();
  std::lock_guard<std::mutex> lock(st.mu);
  if (!st.logger) {
    st.logger = MakeLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), st.level.load());
  }
  *test_sink = st.test_sink;
  return st.logger;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

constexpr std::string_view kMask = "***";

// Masks the password of every "scheme://user:password@host".
std::string RedactUrlCredentials(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t sep = text.find("://", i);
    if (sep == std::string_view::npos) break;
    size_t auth_begin = sep + 3;
    size_t auth_end = auth_begin;
    while (auth_end < text.size()) {
      char c = text[auth_end];
      if (c == '/' || c == '?' || c == '#' || c == '"' || c == '\'' ||
          std::isspace(static_cast<unsigned char>(c))) {
        break;
      }
      ++auth_end;
    }
    std::string_view authority = text.substr(auth_begin, auth_end - auth_begin);
    size_t at = authority.rfind('@');
    size_t colon = at == std::string_view::npos ? at : authority.substr(0, at).find(':');
    if (colon != std::string_view::npos && colon + 1 < at) {
      out.append(text.substr(i, auth_begin + colon + 1 - i));
      out.append(kMask);
      out.append(authority.substr(at));
    } else {
      out.append(text.substr(i, auth_end - i));
    }
    i = auth_end;
  }
  if (i < text.size()) out.append(text.substr(i));
  return out;
}

bool IsValueEnd(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || c == '&' || c == ',' || c == ';' ||
         c == ')' || c == ']' || c == '}' || c == '"' || c == '\'';
}

// Error codes of S3 and Azure whose names hold a secret's word: "SignatureDoesNotMatch: The
// request signature ..." is the store's message, not a key and its value.
bool IsStoreErrorCode(std::string_view key) {
  static constexpr std::array<std::string_view, 10> kCodes = {"SignatureDoesNotMatch",
                                                              "InvalidAccessKeyId",
                                                              "ExpiredToken",
                                                              "InvalidToken",
                                                              "TokenRefreshRequired",
                                                              "AuthorizationFailure",
                                                              "AuthorizationPermissionMismatch",
                                                              "AuthorizationSourceIPMismatch",
                                                              "AuthorizationProtocolMismatch",
                                                              "AuthorizationResourceTypeMismatch"};
  return std::find(kCodes.begin(), kCodes.end(), key) != kCodes.end();
}

// Masks the values of key=value, key: value and "key":"value" pairs whose key names a secret.
std::string RedactKeyValues(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    if (!IsKeyChar(text[i]) || (i > 0 && IsKeyChar(text[i - 1]))) {
      out.push_back(text[i++]);
      continue;
    }
    size_t key_end = i;
    while (key_end < n && IsKeyChar(text[key_end])) ++key_end;
    std::string_view key = text.substr(i, key_end - i);
    size_t j = key_end;
    if (j < n && (text[j] == '"' || text[j] == '\'')) ++j;  // closing quote of a JSON key
    while (j < n && text[j] == ' ') ++j;
    if (j >= n || (text[j] != '=' && text[j] != ':') || !IsSecretKey(key) ||
        IsStoreErrorCode(key)) {
      out.append(text.substr(i, key_end - i));
      i = key_end;
      continue;
    }
    ++j;
    while (j < n && text[j] == ' ') ++j;
    out.append(text.substr(i, j - i));
    if (j < n && (text[j] == '"' || text[j] == '\'')) {
      char q = text[j];
      size_t k = j + 1;
      while (k < n && text[k] != q) k += (text[k] == '\\' && k + 1 < n) ? 2 : 1;
      out.push_back(q);
      out.append(kMask);
      i = std::min(k, n);  // the closing quote (if any) is copied by the main loop
      continue;
    }
    size_t k = j;
    while (k < n && !IsValueEnd(text[k])) ++k;
    // "Authorization: Bearer abc" (or "SharedKey account:sig"): the scheme word is not the
    // secret, the next token is.
    std::string lower = Lower(text.substr(j, k - j));
    if ((lower == "bearer" || lower == "basic" || lower == "token" || lower == "sharedkey" ||
         lower == "sharedkeylite") &&
        k < n && text[k] == ' ') {
      out.append(text.substr(j, k + 1 - j));
      j = k + 1;
      k = j;
      while (k < n && !IsValueEnd(text[k])) ++k;
    }
    if (k > j) out.append(kMask);
    i = k;
  }
  return out;
}

nlohmann::json RedactJson(const nlohmann::json& v) {
  if (v.is_string()) return RedactSecrets(v.get_ref<const std::string&>());
  if (v.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      out[it.key()] = IsSecretKey(it.key()) ? nlohmann::json(kMask) : RedactJson(it.value());
    }
    return out;
  }
  if (v.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : v) out.push_back(RedactJson(e));
    return out;
  }
  return v;
}

nlohmann::json RedactField(const Field& f) {
  return IsSecretKey(f.key) ? nlohmann::json(kMask) : RedactJson(f.value);
}

void AppendEscapedChar(std::string& out, char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
      } else {
        out.push_back(c);
      }
  }
}

// Messages stay unquoted; only control characters are escaped so a record stays on one line.
void AppendMessage(std::string& out, std::string_view msg) {
  for (char c : msg) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      AppendEscapedChar(out, c);
    } else {
      out.push_back(c);
    }
  }
}

void AppendTextValue(std::string& out, const std::string& s) {
  bool quote = s.empty() || std::any_of(s.begin(), s.end(), [](char c) {
                 return c == ' ' || c == '"' || c == '=' || c == '\\' ||
                        static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
               });
  if (!quote) {
    out += s;
    return;
  }
  out.push_back('"');
  for (char c : s) AppendEscapedChar(out, c);
  out.push_back('"');
}

std::string TextKey(std::string_view key) {
  std::string k(key.empty() ? std::string_view("_") : key);
  for (char& c : k) {
    if (c == ' ' || c == '=' || c == '"' || static_cast<unsigned char>(c) < 0x20) c = '_';
  }
  return k;
}

std::string_view TextLevel(Level level) {
  switch (level) {
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO ";
    case Level::kWarning:
      return "WARN ";
    case Level::kError:
      return "ERROR";
  }
  return "INFO ";
}

}  // namespace

void Configure(Level level, Format format) {
  State& st = GetState();
  std::lock_guard<std::mutex> lock(st.mu);
  st.level = level;
  st.format = format;
  if (st.logger) st.logger->set_level(ToSpdlog(level));
}

void SetSinkForTesting(std::function<void(const std::string& line)> sink) {
  State& st = GetState();
  std::lock_guard<std::mutex> lock(st.mu);
  st.test_sink = static_cast<bool>(sink);
  spdlog::sink_ptr s;
  if (sink) {
    s = std::make_shared<CallbackSink>(std::move(sink));
  } else {
    s = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  st.logger = MakeLogger(std::move(s), st.level.load());
}

Level CurrentLevel() { return GetState().level.load(); }
Format CurrentFormat() { return GetState().format.load(); }

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

std::optional<Level> ParseLevel(std::string_view name) {
  std::string n = Lower(name);
  if (n == "debug") return Level::kDebug;
  if (n == "info") return Level::kInfo;
  if (n == "warn" || n == "warning") return Level::kWarning;
  if (n == "error") return Level::kError;
  return std::nullopt;
}

bool IsSecretKey(std::string_view key) {
  std::string k;
  for (char c : key) {
    if (c == '_' || c == '-' || c == '.' || c == ' ') continue;
    k.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  static constexpr std::array<std::string_view, 14> kContains = {
      "password",   "passwd",     "secret",     "token",           "apikey",
      "accesskey",  "privatekey", "credential", "signature",       "authorization",
      "sessionkey", "accountkey", "sastoken",   "connectionstring"};
  static constexpr std::array<std::string_view, 4> kExact = {"pwd", "sig", "pass", "auth"};
  for (std::string_view s : kContains) {
    if (k.find(s) != std::string::npos) return true;
  }
  return std::find(kExact.begin(), kExact.end(), k) != kExact.end();
}

std::string RedactSecrets(std::string_view text) {
  return RedactKeyValues(RedactUrlCredentials(text));
}

std::string FormatRecord(Format format, int64_t ts_ms, Level level, std::string_view message,
                         const std::vector<Field>& fields) {
  std::string msg = RedactSecrets(message);
  if (format == Format::kJson) {
    nlohmann::ordered_json rec;
    rec["ts"] = FormatTimestampMs(ts_ms);
    rec["level"] = LevelName(level);
    rec["msg"] = std::move(msg);
    for (const Field& f : fields) {
      std::string key = f.key;
      // Never let a field overwrite the record's own keys or an earlier field.
      while (rec.contains(key)) key = "_" + key;
      rec[key] = RedactField(f);
    }
    // Invalid UTF-8 (e.g. raw file names) is replaced rather than throwing.
    return rec.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  std::string out = FormatTimestampMs(ts_ms);
  out.push_back(' ');
  out.append(TextLevel(level));
  out.push_back(' ');
  AppendMessage(out, msg);
  for (const Field& f : fields) {
    out.push_back(' ');
    out += TextKey(f.key);
    out.push_back('=');
    nlohmann::json v = RedactField(f);
    if (v.is_string()) {
      AppendTextValue(out, v.get_ref<const std::string&>());
    } else {
      AppendTextValue(out, v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  }
  return out;
}

void Log(Level level, std::string_view message, const std::vector<Field>& fields) {
  State& st = GetState();
  if (level < st.level.load(std::memory_order_relaxed)) return;
  bool test_sink = false;
  std::shared_ptr<spdlog::logger> logger = CurrentLogger(&test_sink);
  if (!logger->should_log(ToSpdlog(level))) return;
  std::string line = FormatRecord(st.format.load(), NowMs(), level, message, fields);
  if (!test_sink && st.progress_active.load(std::memory_order_relaxed)) {
    line.insert(0, "\r\x1b[K");  // one write with the line, so the progress thread can't interleave
  }
  logger->log(ToSpdlog(level), spdlog::string_view_t(line.data(), line.size()));
}

void Log(Level level, std::string_view message, std::initializer_list<Field> fields) {
  if (level < GetState().level.load(std::memory_order_relaxed)) return;
  Log(level, message, std::vector<Field>(fields));
}

void SetStderrProgressActive(bool active) { GetState().progress_active = active; }

}  // namespace dl::log
