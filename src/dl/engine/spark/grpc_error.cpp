#include "dl/engine/spark/grpc_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace dl::engine::spark {

namespace {

// Spark's messages can carry the whole plan; the first lines say what went wrong.
constexpr size_t kMaxMessage = 2000;

// The error class Spark put in the status details' ErrorInfo ("TABLE_OR_VIEW_NOT_FOUND");
// empty when there is none.
std::string ErrorClass(const grpc::Status& status) {
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    return "";
  }
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (!any.Is<google::rpc::ErrorInfo>() || !any.UnpackTo(&info)) continue;
    auto it = info.metadata().find("errorClass");
    if (it != info.metadata().end()) return it->second;
  }
  return "";
}

// Spark 3.5 servers send no error class in the details, only in the message, which starts
// with it as every SparkThrowable's message does ("[TABLE_OR_VIEW_NOT_FOUND] The table ...",
// after a line break at times): taken from there only, never from elsewhere in the text.
std::string LeadingClass(std::string_view message) {
  const size_t open = message.find_first_not_of(" \n");
  if (open == std::string_view::npos || message[open] != '[') return "";
  const size_t close = message.find(']', open);
  if (close == std::string_view::npos || close == open + 1) return "";
  const std::string_view name = message.substr(open + 1, close - open - 1);
  const bool ok = std::isupper(static_cast<unsigned char>(name.front())) &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return std::isupper(static_cast<unsigned char>(c)) ||
                           std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '.';
                  });
  return ok ? std::string(name) : "";
}

std::string Scrub(std::string text, const SparkRemote& remote) {
  if (!remote.token.empty()) {
    for (size_t at = text.find(remote.token); at != std::string::npos;
         at = text.find(remote.token, at)) {
      text.replace(at, remote.token.size(), "***");
    }
  }
  if (text.size() > kMaxMessage) text = text.substr(0, kMaxMessage) + " ...";
  return text;
}

bool SessionLostClass(const std::string& error_class) {
  return error_class.rfind("INVALID_HANDLE.SESSION_", 0) == 0;
}

// A block of a local checkpoint is gone: the executor that held it died (a preempted node,
// a scaled-down cluster). Nothing can recompute it, but the operation, done again, makes a
// new checkpoint.
bool LostCheckpointClass(const std::string& error_class) {
  return error_class == "CHECKPOINT_RDD_BLOCK_ID_NOT_FOUND";
}

// The server's Hadoop cannot reach a path's store: no FileSystem for its scheme (Apache
// Spark maps none to s3://), or S3A named but its jar (hadoop-aws) missing. A fault of the
// server's setup, never of the files: a Config error saying what to add. Hadoop says so in
// a message only (Spark gives it no error class).
std::optional<std::string> MissingFileSystem(std::string_view message) {
  constexpr std::string_view kNoScheme = "No FileSystem for scheme \"";
  if (const size_t at = message.find(kNoScheme); at != std::string_view::npos) {
    const size_t from = at + kNoScheme.size();
    const std::string scheme(message.substr(from, message.find('"', from) - from));
    if (scheme == "s3" || scheme == "s3n") {
      return fmt::format(
          "the Spark server has no Hadoop FileSystem for {0}:// paths (Apache Spark maps only "
          "s3a:// to its S3A connector): set spark.hadoop.fs.{0}.impl="
          "org.apache.hadoop.fs.s3a.S3AFileSystem on the server (with org.apache.hadoop:hadoop-aws "
          "on its classpath), or spell the config's paths s3a://",
          scheme);
    }
    return fmt::format(
        "the Spark server has no Hadoop FileSystem for {}:// paths: add that store's Hadoop "
        "connector to the server (its jar and spark.hadoop.* settings)",
        scheme);
  }
  if (message.find("Class org.apache.hadoop.fs.s3a.S3AFileSystem not found") !=
      std::string_view::npos) {
    return std::string(
        "the Spark server cannot read or write S3 paths (s3a://, or s3:// mapped to S3A): its "
        "Hadoop has no S3A connector; add org.apache.hadoop:hadoop-aws of the server's Hadoop "
        "version (3.4.2 for Spark 4.1) to the server (spark.jars.packages) with the store's "
        "endpoint and credentials as spark.hadoop.fs.s3a.* settings");
  }
  return std::nullopt;
}

// S3 refused the cluster's credentials (the AWS SDK's "(Service: S3, Status Code: 403, ..."
// in v2, "(Service: Amazon S3; Status Code: 403; ..." in v1): the loader's own reached the
// files, so it is the cluster's access, as our S3 client's 403 is a credentials error
// (InvalidArgument: the whole batch, never a file's fault).
bool S3AccessDenied(std::string_view message) {
  const bool s3 = message.find("Service: S3") != std::string_view::npos ||
                  message.find("Service: Amazon S3") != std::string_view::npos;
  return s3 && message.find("Status Code: 403") != std::string_view::npos;
}

}  // namespace

bool SessionMayBeLost(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         SessionLostClass(ErrorClass(status));
}

Status FromGrpc(const grpc::Status& status, const SparkRemote& remote) {
  std::string message = Scrub(status.error_message(), remote);
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Status::Io("Spark Connect server {} is unavailable (transient, retry later): {}",
                        remote.Endpoint(), message);
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return Status::InvalidArgument(
          "Spark Connect server {} refused the credentials (check the token): {}",
          remote.Endpoint(), message);
    case grpc::StatusCode::CANCELLED:
      return Status::Cancelled("Spark Connect call cancelled: {}", message);
    default:
      break;
  }
  ErrorDetail detail;
  detail.error_class = ErrorClass(status);
  if (detail.error_class.empty()) detail.error_class = LeadingClass(message);
  message.erase(0, std::min(message.find_first_not_of(" \n"), message.size()));
  const std::string& error_class = detail.error_class;
  if (SessionLostClass(error_class)) {
    return Status::Io(
               "Spark Connect server {} no longer holds our session (it restarted?); the next "
               "call starts a new one (transient, retry): [{}] {}",
               remote.Endpoint(), error_class, message)
        .WithDetail(std::move(detail));
  }
  // Spark's messages usually start with "[ERROR_CLASS]" already.
  if (!error_class.empty() && message.rfind("[" + error_class + "]", 0) != 0) {
    message = fmt::format("[{}] {}", error_class, message);
  }
  if (auto missing = MissingFileSystem(message)) {
    return Status::Config("Spark: {} (docs/spark_engine.md, \"Object storage\"); Spark said: {}",
                          *missing, message)
        .WithDetail(std::move(detail));
  }
  if (S3AccessDenied(message)) {
    return Status::InvalidArgument(
               "Spark: S3 refused the Spark cluster's access (HTTP 403): its credentials must "
               "read the sources and write the table (spark.hadoop.fs.s3a.* on Apache Spark; an "
               "instance profile or Unity Catalog external location on Databricks), apart from "
               "the loader's own; Spark said: {}",
               message)
        .WithDetail(std::move(detail));
  }
  if (LostCheckpointClass(error_class)) {
    detail.cause = ErrorDetail::Cause::kTransient;
    return Status::Engine(
               "Spark: an intermediate result of this operation was lost with the executor "
               "that held it (transient, retry): {}",
               message)
        .WithDetail(std::move(detail));
  }
  return Status::Engine("Spark: {}", message).WithDetail(std::move(detail));
}

}  // namespace dl::engine::spark
