// A loopback HTTP/1.1 proxy for tests, in front of a real object-store server (versitygw,
// Azurite): it forwards real requests and injects faults (503 answers, lost answers, a
// dropped If-None-Match header, a store that ignores conditional writes). Nothing here
// answers in the server's place except the injected faults.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dl/common/testing/test_servers.hpp"

namespace dl::testing {

/// A loopback HTTP/1.1 proxy in front of a server, one request per connection. It passes
/// requests through unchanged (signatures stay valid) and can inject faults into answers.
class FaultProxy {
 public:
  explicit FaultProxy(int upstream_port) : upstream_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 64);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FaultProxy() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }
  int port() const { return port_; }
  /// Answer the next n requests with 503 SlowDown without forwarding them.
  void FailNext(int n) { fail_next_ = n; }
  /// Forward the next n requests but drop the server's answers (close the connection): the
  /// request took effect and the client cannot know.
  void DropNextAnswers(int n) { drop_next_ = n; }
  /// Answer the next request with `status_line` ("403 Forbidden") and an XML `body` (none if
  /// empty) without forwarding it: an error answer as a store (or a gateway before it) words it.
  void AnswerNextWith(std::string status_line, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    canned_.emplace_back(std::move(status_line), std::move(body));
  }
  /// Drop the If-None-Match header from requests (which breaks their signature).
  void StripIfNoneMatch(bool on) { strip_if_none_match_ = on; }
  /// Turn every 412 of the server into 200: a store that ignores If-None-Match.
  void IgnoreConditionalWrites(bool on) { ignore_conditional_ = on; }
  int forwarded() const { return forwarded_; }

 private:
  static std::string ReadRequest(int fd) {
    std::string data;
    char buf[65536];
    size_t header_end = std::string::npos;
    size_t want = 0;
    while (true) {
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          std::string lower = data.substr(0, header_end);
          for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          size_t cl = lower.find("\r\ncontent-length:");
          size_t body = cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 17));
          want = header_end + 4 + body;
        }
      }
      if (header_end != std::string::npos && data.size() >= want) return data;
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return {};
      data.append(buf, static_cast<size_t>(n));
    }
  }
  static void SendAll(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  std::string Forward(std::string request) {
    // One request per connection: the server closes after answering, so read to EOF.
    request.insert(request.find("\r\n") + 2, "Connection: close\r\n");
    if (strip_if_none_match_) {
      const size_t end = request.find("\r\n\r\n");
      std::string lower = request.substr(0, end);
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (size_t at = lower.find("\r\nif-none-match:"); at != std::string::npos) {
        request.erase(at, lower.find("\r\n", at + 2) - at);
      }
    }
    int fd = ConnectLoopback(upstream_);
    if (fd < 0) return {};
    SendAll(fd, request);
    std::string answer;
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) answer.append(buf, static_cast<size_t>(n));
    ::close(fd);
    ++forwarded_;
    return answer;
  }
  std::optional<std::pair<std::string, std::string>> TakeCanned() {
    std::lock_guard<std::mutex> lock(mu_);
    if (canned_.empty()) return std::nullopt;
    auto first = std::move(canned_.front());
    canned_.erase(canned_.begin());
    return first;
  }
  void Serve() {
    while (!stop_) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::string request = ReadRequest(fd);
      std::string answer;
      const std::string close = "Connection: close\r\n";
      if (request.empty()) {
      } else if (auto canned = TakeCanned()) {
        // No body, no content type: a store's error answer to a HEAD.
        const std::string type = canned->second.empty() ? "" : "Content-Type: application/xml\r\n";
        answer = "HTTP/1.1 " + canned->first + "\r\n" + close + type +
                 "Content-Length: " + std::to_string(canned->second.size()) + "\r\n\r\n" +
                 canned->second;
      } else if (fail_next_ > 0) {
        --fail_next_;
        const std::string body =
            "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Please reduce your "
            "request rate.</Message></Error>";
        answer = "HTTP/1.1 503 Service Unavailable\r\n" + close +
                 "Content-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) +
                 "\r\n\r\n" + body;
      } else {
        answer = Forward(request);
        if (drop_next_ > 0) {
          --drop_next_;
          answer.clear();
        }
        if (ignore_conditional_ && answer.rfind("HTTP/1.1 412", 0) == 0) {
          answer = "HTTP/1.1 200 OK\r\n" + close + "Content-Length: 0\r\n\r\n";
        }
      }
      SendAll(fd, answer);
      ::close(fd);
    }
  }

  int upstream_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> fail_next_{0};
  std::atomic<int> drop_next_{0};
  std::atomic<bool> ignore_conditional_{false};
  std::atomic<bool> strip_if_none_match_{false};
  std::atomic<int> forwarded_{0};
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> canned_;  ///< (status line, body)
  std::thread thread_;
};

}  // namespace dl::testing
