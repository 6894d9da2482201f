// Test helpers: object-store servers (versitygw for S3, Azurite for Azure Blob) started on a
// free loopback port and stopped when the object goes (per test, or once per test binary from
// a ::testing::Environment). A test whose server binary is absent skips, naming what is
// missing, except in CI (CI=true), where it fails. fault_proxy.hpp puts faults in between.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dl/common/testing/temp_dir.hpp"

namespace dl::testing {

/// True when running in CI, where a missing test server is a failure, not a skip.
inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

/// Skip the test (or fail it in CI) when `server` did not start; `why` says what is missing.
#define DL_REQUIRE_SERVER(server, why)          \
  do {                                          \
    if (!(server)) {                            \
      if (::dl::testing::InCi()) FAIL() << why; \
      GTEST_SKIP() << why;                      \
    }                                           \
  } while (0)

/// A TCP port on 127.0.0.1 nobody listens on right now.
inline int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

/// A connected socket to 127.0.0.1:port, or -1.
inline int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool PortAcceptsConnections(int port) {
  int fd = ConnectLoopback(port);
  if (fd >= 0) ::close(fd);
  return fd >= 0;
}

/// The first of `candidates` that is an executable file ("" if none). Empty entries skipped.
inline std::string FirstExecutable(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    if (!c.empty() && ::access(c.c_str(), X_OK) == 0) return c;
  }
  return "";
}

/// The repository root (this header lives in src/dl/common/testing).
inline std::string RepoRoot() {
  return std::filesystem::path(__FILE__)
      .parent_path()
      .parent_path()
      .parent_path()
      .parent_path()
      .parent_path()
      .string();
}

/// A child process, killed (SIGTERM, then SIGKILL) and reaped on destruction.
class ServerProcess {
 public:
  /// Start `argv` with output to `log`, and wait until it accepts connections on `port`.
  static std::unique_ptr<ServerProcess> Start(const std::vector<std::string>& argv,
                                              const std::string& log, int port) {
    pid_t pid = ::fork();
    if (pid == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::setpgid(0, 0);  // its own group: node spawns no children, but be sure to stop all
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    if (pid < 0) return nullptr;
    auto proc = std::unique_ptr<ServerProcess>(new ServerProcess(pid));
    for (int i = 0; i < 300; ++i) {  // up to 30 s (node is slow to start on a busy machine)
      if (PortAcceptsConnections(port)) return proc;
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        proc->pid_ = -1;
        return nullptr;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return nullptr;
  }
  ~ServerProcess() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

 private:
  explicit ServerProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

/// versitygw serving a temp directory: each subdirectory is a bucket. Binary from
/// $DL_VERSITYGW, third_party/bin/versitygw (scripts/install_test_servers.sh) or ~/go/bin.
class VersitygwServer {
 public:
  static constexpr const char* kAccessKey = "dltestaccess";
  static constexpr const char* kSecretKey = "dltestsecret0123456789";

  /// nullptr when the binary is absent or does not start (see MissingReason()).
  static std::unique_ptr<VersitygwServer> Start() {
    const char* env = std::getenv("DL_VERSITYGW");
    const char* home = std::getenv("HOME");
    std::string bin = FirstExecutable({env ? env : "", RepoRoot() + "/third_party/bin/versitygw",
                                       home ? std::string(home) + "/go/bin/versitygw" : ""});
    if (bin.empty()) return nullptr;
    auto server = std::unique_ptr<VersitygwServer>(new VersitygwServer());
    std::filesystem::create_directories(server->data_dir());
    int port = FreeLoopbackPort();
    server->port_ = port;
    server->endpoint_ = "http://127.0.0.1:" + std::to_string(port);
    server->process_ =
        ServerProcess::Start({bin, "--access", kAccessKey, "--secret", kSecretKey, "--port",
                              "127.0.0.1:" + std::to_string(port), "posix", server->data_dir()},
                             server->dir_ / "versitygw.log", port);
    if (!server->process_) return nullptr;
    return server;
  }
  static std::string MissingReason() {
    return "versitygw is not installed (set DL_VERSITYGW, or run "
           "scripts/install_test_servers.sh)";
  }

  /// "http://127.0.0.1:<port>"
  const std::string& endpoint() const { return endpoint_; }
  int port() const { return port_; }
  /// Make a bucket (a directory of the served folder).
  void CreateBucket(const std::string& name) {
    std::filesystem::create_directories(data_dir() + "/" + name);
  }
  /// The local file behind s3://bucket/key, for checking what the server holds.
  std::string LocalPath(const std::string& bucket, const std::string& key) const {
    return data_dir() + "/" + bucket + "/" + key;
  }
  std::string data_dir() const { return dir_ / "data"; }

 private:
  VersitygwServer() = default;
  TempDir dir_;
  int port_ = 0;
  std::string endpoint_;
  std::unique_ptr<ServerProcess> process_;
};

/// Azurite's Blob service on a temp directory, account devstoreaccount1 with its well-known
/// key. Binary from $DL_AZURITE_BLOB or third_party/azurite/node_modules/.bin/azurite-blob.
class AzuriteServer {
 public:
  static constexpr const char* kAccount = "devstoreaccount1";
  static constexpr const char* kKey =
      "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

  static std::unique_ptr<AzuriteServer> Start() {
    const char* env = std::getenv("DL_AZURITE_BLOB");
    std::string bin = FirstExecutable(
        {env ? env : "", RepoRoot() + "/third_party/azurite/node_modules/.bin/azurite-blob"});
    if (bin.empty()) return nullptr;
    auto server = std::unique_ptr<AzuriteServer>(new AzuriteServer());
    int port = FreeLoopbackPort();
    server->endpoint_ = "http://127.0.0.1:" + std::to_string(port) + "/" + kAccount;
    std::string node = FirstExecutable({"/usr/bin/node", "/usr/local/bin/node"});
    // The .bin entry is a node script: run it with node so PATH does not matter.
    server->process_ =
        ServerProcess::Start({node.empty() ? bin : node, bin, "--blobHost", "127.0.0.1",
                              "--blobPort", std::to_string(port), "--location", server->dir_.path(),
                              "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry"},
                             server->dir_ / "azurite.log", port);
    if (!server->process_) return nullptr;
    return server;
  }
  static std::string MissingReason() {
    return "Azurite is not installed (set DL_AZURITE_BLOB, or run "
           "scripts/install_test_servers.sh)";
  }

  /// "http://127.0.0.1:<port>/devstoreaccount1"
  const std::string& blob_endpoint() const { return endpoint_; }
  /// Create a container (SharedKey-signed PUT by curl, HMAC by the openssl tool).
  bool CreateContainer(const std::string& name) const {
    std::string script = dir_ / "mkcontainer.sh";
    WriteFile(script, R"SH(set -eu
date="$(LC_ALL=C TZ=GMT date '+%a, %d %b %Y %H:%M:%S GMT')"
ver=2021-08-06
sts="PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:$date\nx-ms-version:$ver\n/$2/$2/$4\nrestype:container"
hexkey="$(printf '%s' "$3" | base64 -d | od -An -tx1 -v | tr -d ' \n')"
sig="$(printf "$sts" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64 -w0)"
code="$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H "x-ms-date: $date" \
  -H "x-ms-version: $ver" -H "Content-Length: 0" -H "Authorization: SharedKey $2:$sig" \
  "$1/$4?restype=container")"
test "$code" = 201
)SH");
    std::string cmd =
        "bash " + script + " '" + endpoint_ + "' " + kAccount + " '" + kKey + "' '" + name + "'";
    return std::system(cmd.c_str()) == 0;
  }
  std::string log_path() const { return dir_ / "azurite.log"; }

 private:
  AzuriteServer() = default;
  TempDir dir_;
  std::string endpoint_;
  std::unique_ptr<ServerProcess> process_;
};

}  // namespace dl::testing
