// A Spark Connect server that cannot be reached: a transient (Io) error naming host:port,
// never the token. A real gRPC connection attempt to a closed loopback port.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dl/engine/spark/spark_session.hpp"

namespace dl::engine::spark {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A loopback port nobody listens on (bound, then closed).
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(SparkSessionUnreachableTest, TransientErrorNamingTheEndpointWithoutToken) {
  int port = ClosedPort();
  auto remote = ParseConnectionString(
      fmt::format("sc://127.0.0.1:{}/;token=sekrit-token-123;use_ssl=false", port));
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  auto session = SparkSession::Connect(*remote);
  ASSERT_TRUE(session.ok());
  std::string endpoint = fmt::format("127.0.0.1:{}", port);
  for (const Status& st : {(*session)->Sql("SELECT 1").status(), (*session)->SetConf("k", "v"),
                           (*session)->SparkVersion().status()}) {
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), StatusCode::kIo) << st.ToString();
    EXPECT_THAT(st.message(), HasSubstr(endpoint));
    EXPECT_THAT(st.message(), HasSubstr("transient"));
    EXPECT_THAT(st.ToString(), Not(HasSubstr("sekrit")));
  }
}

}  // namespace
}  // namespace dl::engine::spark
