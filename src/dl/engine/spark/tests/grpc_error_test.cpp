// gRPC failures as dl::Status: Spark's error class comes from the ErrorInfo in the status
// details (as the Spark Connect server sends it) into detail().error_class, which callers
// check instead of the message text.
#include "dl/engine/spark/grpc_error.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace dl::engine::spark {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A status as Spark Connect fails a call: code INTERNAL, the message, and the details holding
// an ErrorInfo whose metadata names the error class (none when error_class is empty).
grpc::Status SparkFailure(grpc::StatusCode code, const std::string& message,
                          const std::string& error_class) {
  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  google::rpc::ErrorInfo info;
  info.set_reason("org.apache.spark.sql.AnalysisException");
  info.set_domain("org.apache.spark");
  if (!error_class.empty()) (*info.mutable_metadata())["errorClass"] = error_class;
  details.add_details()->PackFrom(info);
  return grpc::Status(code, message, details.SerializeAsString());
}

SparkRemote Remote() {
  SparkRemote remote;
  remote.host = "spark-host";
  remote.port = 15002;
  remote.token = "sekrit";
  return remote;
}

TEST(GrpcErrorTest, ErrorClassFromErrorInfo) {
  Status st = FromGrpc(SparkFailure(grpc::StatusCode::INTERNAL,
                                    "[TABLE_OR_VIEW_NOT_FOUND] The table `x` cannot be found.",
                                    "TABLE_OR_VIEW_NOT_FOUND"),
                       Remote());
  EXPECT_EQ(st.code(), StatusCode::kEngine);
  EXPECT_EQ(st.detail().error_class, "TABLE_OR_VIEW_NOT_FOUND");
  EXPECT_THAT(st.message(), StartsWith("Spark: [TABLE_OR_VIEW_NOT_FOUND] The table"));
  // Context keeps the class.
  EXPECT_EQ(st.WithContext("reading x").detail().error_class, "TABLE_OR_VIEW_NOT_FOUND");
}

TEST(GrpcErrorTest, ClassPutFirstWhenTheMessageLacksIt) {
  Status st = FromGrpc(SparkFailure(grpc::StatusCode::INTERNAL,
                                    "Files were added by a concurrent update.",
                                    "DELTA_CONCURRENT_APPEND.WITHOUT_HINT"),
                       Remote());
  EXPECT_EQ(st.detail().error_class, "DELTA_CONCURRENT_APPEND.WITHOUT_HINT");
  EXPECT_THAT(st.message(), StartsWith("Spark: [DELTA_CONCURRENT_APPEND.WITHOUT_HINT] Files"));
}

TEST(GrpcErrorTest, NoClassInTheTextIsNoClass) {
  // A message that merely quotes a class (a value, a file name) gives no error class.
  Status st = FromGrpc(SparkFailure(grpc::StatusCode::INTERNAL,
                                    "cannot read file [TABLE_OR_VIEW_NOT_FOUND].csv", ""),
                       Remote());
  EXPECT_EQ(st.code(), StatusCode::kEngine);
  EXPECT_EQ(st.detail().error_class, "");
  Status plain = FromGrpc(grpc::Status(grpc::StatusCode::INTERNAL, "boom"), Remote());
  EXPECT_EQ(plain.detail().error_class, "");
  EXPECT_EQ(plain.message(), "Spark: boom");
}

TEST(GrpcErrorTest, ClassFromTheMessageStartWhenTheDetailsLackIt) {
  // Spark 3.5 servers: no errorClass in the ErrorInfo, the message starts with it (at times
  // after a line break).
  Status st = FromGrpc(SparkFailure(grpc::StatusCode::INTERNAL,
                                    "\n[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'.", ""),
                       Remote());
  EXPECT_EQ(st.detail().error_class, "PARSE_SYNTAX_ERROR");
  EXPECT_THAT(st.message(), StartsWith("Spark: [PARSE_SYNTAX_ERROR] Syntax error"));
  Status race =
      FromGrpc(SparkFailure(grpc::StatusCode::INTERNAL,
                            "[DELTA_CONCURRENT_APPEND] ConcurrentAppendException: ...", ""),
               Remote());
  EXPECT_EQ(race.detail().error_class, "DELTA_CONCURRENT_APPEND");
  // Only a leading [UPPER_CASE.NAME] is a class.
  for (const char* text : {"[a].csv is missing", "[] x", "[NOT CLOSED", " x [TABLE_NOT_FOUND]"}) {
    EXPECT_EQ(
        FromGrpc(SparkFailure(grpc::StatusCode::INTERNAL, text, ""), Remote()).detail().error_class,
        "")
        << text;
  }
}

TEST(GrpcErrorTest, LostSessionIsIoCarryingItsClass) {
  grpc::Status lost = SparkFailure(grpc::StatusCode::INTERNAL,
                                   "[INVALID_HANDLE.SESSION_CHANGED] The existing Spark server "
                                   "driver instance has restarted. token sekrit",
                                   "INVALID_HANDLE.SESSION_CHANGED");
  EXPECT_TRUE(SessionMayBeLost(lost));
  Status st = FromGrpc(lost, Remote());
  EXPECT_EQ(st.code(), StatusCode::kIo);
  EXPECT_EQ(st.detail().error_class, "INVALID_HANDLE.SESSION_CHANGED");
  EXPECT_THAT(st.message(), HasSubstr("spark-host:15002"));
  EXPECT_THAT(st.message(), Not(HasSubstr("sekrit")));
  EXPECT_FALSE(SessionMayBeLost(
      SparkFailure(grpc::StatusCode::INTERNAL, "x", "INVALID_HANDLE.OPERATION_NOT_FOUND")));
}

TEST(GrpcErrorTest, LostCheckpointBlockIsTransient) {
  Status st = FromGrpc(
      SparkFailure(grpc::StatusCode::INTERNAL,
                   "[CHECKPOINT_RDD_BLOCK_ID_NOT_FOUND] Checkpoint block rdd_3_0 not found!",
                   "CHECKPOINT_RDD_BLOCK_ID_NOT_FOUND"),
      Remote());
  EXPECT_EQ(st.code(), StatusCode::kEngine);
  EXPECT_EQ(st.detail().cause, ErrorDetail::Cause::kTransient);
  EXPECT_EQ(st.detail().error_class, "CHECKPOINT_RDD_BLOCK_ID_NOT_FOUND");
  EXPECT_THAT(st.message(), HasSubstr("lost with the executor"));
  EXPECT_THAT(st.message(), HasSubstr("Checkpoint block rdd_3_0"));
  // Other engine errors say nothing of their cause here.
  EXPECT_EQ(
      FromGrpc(SparkFailure(grpc::StatusCode::INTERNAL, "x", "TABLE_OR_VIEW_NOT_FOUND"), Remote())
          .detail()
          .cause,
      ErrorDetail::Cause::kUnknown);
}

// A server whose Hadoop cannot reach a store (no hadoop-aws; s3:// on Apache Spark) fails
// with a Hadoop message and no class: a Config error (the server's setup, no file's fault)
// saying what to add, Spark's own text kept.
TEST(GrpcErrorTest, MissingS3AConnectorIsAConfigErrorNamingTheRemedy) {
  Status st = FromGrpc(SparkFailure(grpc::StatusCode::INTERNAL,
                                    "java.lang.ClassNotFoundException: Class "
                                    "org.apache.hadoop.fs.s3a.S3AFileSystem not found",
                                    ""),
                       Remote());
  EXPECT_EQ(st.code(), StatusCode::kConfig);
  EXPECT_THAT(st.message(), HasSubstr("no S3A connector"));
  EXPECT_THAT(st.message(), HasSubstr("org.apache.hadoop:hadoop-aws"));
  EXPECT_THAT(st.message(), HasSubstr("S3AFileSystem not found"));

  Status s3 = FromGrpc(SparkFailure(grpc::StatusCode::INTERNAL,
                                    "org.apache.hadoop.fs.UnsupportedFileSystemException: No "
                                    "FileSystem for scheme \"s3\"",
                                    ""),
                       Remote());
  EXPECT_EQ(s3.code(), StatusCode::kConfig);
  EXPECT_THAT(s3.message(), HasSubstr("no Hadoop FileSystem for s3:// paths"));
  EXPECT_THAT(s3.message(),
              HasSubstr("spark.hadoop.fs.s3.impl=org.apache.hadoop.fs.s3a.S3AFileSystem"));

  Status gs = FromGrpc(
      SparkFailure(grpc::StatusCode::INTERNAL, "No FileSystem for scheme \"abfss\"", ""), Remote());
  EXPECT_EQ(gs.code(), StatusCode::kConfig);
  EXPECT_THAT(gs.message(), HasSubstr("no Hadoop FileSystem for abfss:// paths"));

  // Other failures stay Spark's.
  EXPECT_EQ(FromGrpc(SparkFailure(grpc::StatusCode::INTERNAL, "Path does not exist: s3a://b/x",
                                  "PATH_NOT_FOUND"),
                     Remote())
                .code(),
            StatusCode::kEngine);
}

// S3 refusing the cluster's credentials (S3A's 403, whose message names the file) is the
// cluster's access, not the file: InvalidArgument, as our own S3 client's 403.
TEST(GrpcErrorTest, S3RefusingTheClustersAccessIsACredentialsError) {
  Status st = FromGrpc(
      SparkFailure(grpc::StatusCode::INTERNAL,
                   "s3a://b/raw/p.parquet: getFileStatus on s3a://b/raw/p.parquet: "
                   "software.amazon.awssdk.services.s3.model.S3Exception: Forbidden (Service: S3, "
                   "Status Code: 403, Request ID: X):null",
                   ""),
      Remote());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("refused the Spark cluster's access"));
  EXPECT_THAT(st.message(), HasSubstr("s3a://b/raw/p.parquet"));
  // Spark 3.5's Hadoop 3.3.4 (AWS SDK v1) spells it so.
  EXPECT_EQ(FromGrpc(SparkFailure(grpc::StatusCode::INTERNAL,
                                  "getFileStatus on s3a://b/x: com.amazonaws.services.s3.model."
                                  "AmazonS3Exception: Forbidden (Service: Amazon S3; Status Code: "
                                  "403; Error Code: 403 Forbidden; Request ID: X)",
                                  ""),
                     Remote())
                .code(),
            StatusCode::kInvalidArgument);
  // Another status, or the words in a value of a file's error, are Spark's.
  EXPECT_EQ(FromGrpc(SparkFailure(grpc::StatusCode::INTERNAL,
                                  "Malformed record: 'Status Code: 403' in s3a://b/x", ""),
                     Remote())
                .code(),
            StatusCode::kEngine);
  EXPECT_EQ(FromGrpc(SparkFailure(grpc::StatusCode::INTERNAL,
                                  "Status Code: 404, Not Found: s3a://b/raw/p.parquet", ""),
                     Remote())
                .code(),
            StatusCode::kEngine);
}

}  // namespace
}  // namespace dl::engine::spark
