// The HTTP client against a real server on 127.0.0.1 (a scripted, recording socket server in a
// thread): headers, bodies, retries with backoff, no retry on 4xx, timeouts, refused ports.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "dl/common/http_client.hpp"

namespace dl::http {
namespace {

using ::testing::HasSubstr;

// Answers connection i with replies[i] ("" = never answer, hold the connection until the
// client gives up); records each raw request.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::string> replies) : replies_(std::move(replies)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    done_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  static std::string Reply(int status, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           body;
  }

 private:
  void Serve() {
    for (size_t i = 0; i < replies_.size() && !done_;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      std::string req = ReadRequest(c);
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
      }
      if (replies_[i].empty()) {  // hold until the client hangs up
        char buf[64];
        while (!done_ && ::recv(c, buf, sizeof(buf), 0) > 0) {
        }
      } else {
        ::send(c, replies_[i].data(), replies_[i].size(), MSG_NOSIGNAL);
      }
      ::close(c);
      ++i;
    }
  }
  static std::string ReadRequest(int c) {
    std::string req;
    char buf[4096];
    size_t want = std::string::npos;
    while (req.size() < want) {
      ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) break;
      req.append(buf, n);
      size_t head = req.find("\r\n\r\n");
      if (head != std::string::npos && want == std::string::npos) {
        size_t cl = req.find("Content-Length: ");
        size_t len = cl == std::string::npos || cl > head ? 0 : std::stoul(req.substr(cl + 16));
        want = head + 4 + len;
      }
    }
    return req;
  }

  std::vector<std::string> replies_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> done_{false};
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

TEST(HttpClientTest, PostsJsonWithBearerTokenAndReadsTheAnswer) {
  ScriptedServer server({ScriptedServer::Reply(200, R"({"run_id": 5})")});
  Request req;
  req.method = "POST";
  req.url = server.url("/api/2.1/jobs/run-now");
  req.body = R"({"job_id": 77})";
  req.bearer_token = "tok-123";
  auto r = Send(req);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"run_id": 5})");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_THAT(reqs[0], HasSubstr("POST /api/2.1/jobs/run-now HTTP/1.1\r\n"));
  EXPECT_THAT(reqs[0], HasSubstr("Authorization: Bearer tok-123\r\n"));
  EXPECT_THAT(reqs[0], HasSubstr("Content-Type: application/json\r\n"));
  EXPECT_THAT(reqs[0], HasSubstr("\r\n\r\n{\"job_id\": 77}"));

  // A large body goes at once, without waiting for "100 Continue".
  ScriptedServer big({ScriptedServer::Reply(200, "{}")});
  req.url = big.url("/big");
  req.body = "{\"pad\": \"" + std::string(100000, 'x') + "\"}";
  ASSERT_TRUE(Send(req).ok());
  ASSERT_EQ(big.requests().size(), 1u);
  EXPECT_THAT(big.requests()[0], ::testing::Not(HasSubstr("Expect:")));
  EXPECT_THAT(big.requests()[0], HasSubstr(std::string(100000, 'x') + "\"}"));
}

TEST(HttpClientTest, RetriesServerErrorsWithBackoffButNotClientErrors) {
  ScriptedServer flaky({ScriptedServer::Reply(500, "{}"), ScriptedServer::Reply(503, "{}"),
                        ScriptedServer::Reply(200, "{}")});
  std::vector<int64_t> waits;
  RetryPolicy policy;
  policy.retries = 3;
  policy.backoff_ms = 100;
  policy.sleep = [&](int64_t ms) {
    waits.push_back(ms);
    return true;
  };
  Request req;
  req.url = flaky.url("/x");
  auto a = SendWithRetries(req, policy);
  ASSERT_TRUE(a.last.ok());
  EXPECT_EQ(a.last->status, 200);
  EXPECT_EQ(a.attempts, 3);
  EXPECT_THAT(waits, ::testing::ElementsAre(100, 200));

  ScriptedServer missing({ScriptedServer::Reply(404, R"({"error_code":"NOT_FOUND"})")});
  req.url = missing.url("/y");
  a = SendWithRetries(req, policy);
  ASSERT_TRUE(a.last.ok());
  EXPECT_EQ(a.last->status, 404);
  EXPECT_EQ(a.attempts, 1);
}

TEST(HttpClientTest, SilentServerTimesOutNamingTheRedactedUrl) {
  ScriptedServer silent({""});
  Request req;
  req.url = silent.url("/services/T0/B0/SECRET");
  req.timeout_ms = 300;
  auto r = Send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
  EXPECT_THAT(r.status().message(), HasSubstr("no answer within 300 ms"));
  EXPECT_THAT(r.status().message(), ::testing::Not(HasSubstr("SECRET")));
}

TEST(HttpClientTest, StopsRetryingWhenSleepSaysStop) {
  ScriptedServer failing({ScriptedServer::Reply(500, "{}"), ScriptedServer::Reply(500, "{}")});
  RetryPolicy policy;
  policy.retries = 5;
  policy.sleep = [](int64_t) { return false; };
  Request req;
  req.url = failing.url("/z");
  auto a = SendWithRetries(req, policy);
  EXPECT_EQ(a.attempts, 1);
  ASSERT_TRUE(a.last.ok());
  EXPECT_EQ(a.last->status, 500);
}

// What an object store's error may carry into our messages: the code if it is one, and the
// message's first line without what could echo the request's signature or credentials.
TEST(ServerErrorTextTest, KeepsCodeAndMessageAndMasksSignaturesAndCredentials) {
  EXPECT_EQ(ServerErrorCode("AccessDenied"), "AccessDenied");
  EXPECT_EQ(ServerErrorCode("x-amz-signature=abc"), "");
  EXPECT_EQ(ServerErrorCode(std::string(65, 'A')), "");
  EXPECT_EQ(ServerErrorMessage("Access Denied\nRequestId: 1"), "Access Denied");
  const std::string m = ServerErrorMessage(
      "Refused /b/k?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F2026&X-Amz-Signature=5d672d79&"
      "sig=c2ln%3D&se=2027 (id AKIAIOSFODNN7EXAMPLE); string to sign: 'GET\\n/b/k'");
  EXPECT_EQ(m.rfind("Refused /b/k?X-Amz-Credential=***&X-Amz-Signature=***&sig=***&se=2027 (id "
                    "AKIA***); string to sign ***",
                    0),
            0u)
      << m;
  EXPECT_EQ(ServerErrorMessage("The Canonical Request was GET /x 9f86d081"),
            "The Canonical Request ***");
  EXPECT_EQ(ServerErrorMessage(std::string(500, 'm')).size(), 203u);
}

}  // namespace
}  // namespace dl::http
