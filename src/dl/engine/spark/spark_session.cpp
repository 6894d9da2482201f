#include "dl/engine/spark/spark_session.hpp"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

#include "dl/common/logging.hpp"
#include "dl/engine/spark/arrow_decode.hpp"
#include "dl/engine/spark/grpc_error.hpp"
#include "spark/connect/base.grpc.pb.h"

namespace dl::engine::spark {

namespace pb = ::spark::connect;

namespace {

constexpr const char* kClientType = "data_loader/0.1.0";

std::string NewUuid() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  uint64_t hi = gen(), lo = gen();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;              // version 4
  lo = (lo & ~(0xC0ULL << 56)) | (0x80ULL << 56);  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF,
                     hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

// The system's CA bundle for TLS. gRPC's own default is where its build put roots.pem
// (/usr/share/grpc on Debian), absent on other systems the wheel runs on; its environment
// variable GRPC_DEFAULT_SSL_ROOTS_FILE_PATH still wins when set.
grpc::SslCredentialsOptions TlsOptions() {
  grpc::SslCredentialsOptions options;
  if (std::getenv("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH")) return options;
  for (const char* path : {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                           "/etc/ssl/cert.pem", "/usr/share/grpc/roots.pem"}) {
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    std::ostringstream pem;
    pem << in.rdbuf();
    options.pem_root_certs = pem.str();
    if (!options.pem_root_certs.empty()) break;
  }
  return options;
}

int64_t MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// At most `n` bytes of `text`, never cutting a UTF-8 sequence.
std::string Shortened(const std::string& text, size_t n) {
  if (text.size() <= n) return text;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n) + "...";
}

bool Debugging() { return log::CurrentLevel() == log::Level::kDebug; }

std::string LocalUser() {
  const char* user = std::getenv("USER");
  return user && *user ? user : "data_loader";
}

}  // namespace

class SparkSession::Impl {
 public:
  Impl(SparkRemote remote, Options options) : remote_(std::move(remote)), options_(options) {
    session_id_ = remote_.session_id.empty() ? NewUuid() : remote_.session_id;
    configured_session_id_ = !remote_.session_id.empty();
    std::shared_ptr<grpc::ChannelCredentials> creds =
        remote_.use_ssl ? grpc::SslCredentials(TlsOptions()) : grpc::InsecureChannelCredentials();
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(128 << 20);  // Spark's default maximum message size
    args.SetString(GRPC_ARG_PRIMARY_USER_AGENT_STRING, kClientType);
    stub_ = pb::SparkConnectService::NewStub(
        grpc::CreateCustomChannel(remote_.Endpoint(), creds, args));
  }

  ~Impl() {
    // Free the server's state for this session now rather than at its idle timeout.
    pb::ReleaseSessionRequest req;
    Fill(&req);
    pb::ReleaseSessionResponse resp;
    auto ctx = Context(std::chrono::milliseconds(5000));
    const auto start = std::chrono::steady_clock::now();
    (void)stub_->ReleaseSession(ctx.get(), req, &resp);
    if (Debugging()) log::Debug("spark release", {{"ms", MsSince(start)}});
  }

  const SparkRemote& remote() const { return remote_; }
  const std::string& session_id() const { return session_id_; }

  // Each statement's round trips and time at debug level: where a batch's time goes on the
  // cluster (docs/spark_engine.md). Statements carry no credentials (the connection's token
  // travels in the call's metadata; conf values are never logged).
  Result<QueryRows> Sql(const std::string& sql) {
    if (!Debugging()) return SqlOnce(sql);
    const auto start = std::chrono::steady_clock::now();
    Result<QueryRows> out = SqlOnce(sql);
    log::Debug("spark statement", {{"ms", MsSince(start)},
                                   {"ok", out.ok()},
                                   {"rows", out.ok() ? out->rows.size() : 0},
                                   {"sql", Shortened(sql, 300)}});
    return out;
  }

  Result<QueryRows> SqlOnce(const std::string& sql) {
    pb::Plan plan;
    pb::SqlCommand* cmd = plan.mutable_command()->mutable_sql_command();
    cmd->mutable_input()->mutable_sql()->set_query(sql);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    cmd->set_sql(sql);  // Spark 3.5 servers know only this field; 4.x prefer `input`
#pragma GCC diagnostic pop
    QueryRows rows;
    pb::Relation relation;
    DL_RETURN_IF_ERROR(Execute(plan, &rows, &relation));
    if (relation.has_local_relation()) {
      // A command ran already; its result rows travel inside the relation.
      if (relation.local_relation().has_data()) {
        DL_RETURN_IF_ERROR(AppendArrowIpc(relation.local_relation().data(), &rows));
      }
      return rows;
    }
    if (relation.rel_type_case() == pb::Relation::REL_TYPE_NOT_SET) return rows;
    // A query: the server hands back the relation to run.
    pb::Plan query;
    *query.mutable_root() = std::move(relation);
    DL_RETURN_IF_ERROR(Execute(query, &rows, nullptr));
    return rows;
  }

  Result<bool> CanCheckpoint() {
    if (!checkpoints_) {
      DL_ASSIGN_OR_RETURN(const std::string version, SparkVersion());
      checkpoints_ = std::atoi(version.c_str()) >= 4;  // "4.1.0"; CheckpointCommand is 4.0's
    }
    return *checkpoints_;
  }

  Result<std::optional<pb::Relation>> LocalCheckpoint(const pb::Relation& input,
                                                      const pb::StorageLevel* level) {
    DL_ASSIGN_OR_RETURN(const bool can, CanCheckpoint());
    if (!can) return std::optional<pb::Relation>();
    pb::Plan plan;
    pb::CheckpointCommand* cmd = plan.mutable_command()->mutable_checkpoint_command();
    *cmd->mutable_relation() = input;
    cmd->set_local(true);
    cmd->set_eager(true);
    if (level != nullptr) *cmd->mutable_storage_level() = *level;
    const auto start = std::chrono::steady_clock::now();
    QueryRows rows;
    pb::Relation out;
    Status st = Execute(plan, &rows, &out);
    if (Debugging()) {
      log::Debug("spark checkpoint",
                 {{"ms", MsSince(start)},
                  {"ok", st.ok()},
                  {"sql", input.has_sql() ? Shortened(input.sql().query(), 300) : ""}});
    }
    DL_RETURN_IF_ERROR(st);
    if (!out.has_cached_remote_relation()) {
      return Status::Engine("Spark Connect: a local checkpoint answered no relation");
    }
    return std::optional<pb::Relation>(std::move(out));
  }

  Status ReleaseCheckpoint(const pb::Relation& checkpoint) {
    pb::Plan plan;
    *plan.mutable_command()->mutable_remove_cached_remote_relation_command()->mutable_relation() =
        checkpoint.cached_remote_relation();
    return Run(plan).status();
  }

  Result<QueryRows> Run(const pb::Plan& plan) {
    const auto start = std::chrono::steady_clock::now();
    QueryRows rows;
    Status st = Execute(plan, &rows, nullptr);
    if (Debugging()) {
      log::Debug("spark plan", {{"ms", MsSince(start)},
                                {"ok", st.ok()},
                                {"kind", plan.has_command() ? "command" : "query"}});
    }
    DL_RETURN_IF_ERROR(st);
    return rows;
  }

  Status Config(const pb::ConfigRequest::Operation& op, pb::ConfigResponse* resp) {
    pb::ConfigRequest req;
    Fill(&req);
    *req.mutable_operation() = op;
    auto ctx = Context(options_.call_timeout);
    const auto start = std::chrono::steady_clock::now();
    grpc::Status st = stub_->Config(ctx.get(), req, resp);
    if (Debugging()) log::Debug("spark conf", {{"ms", MsSince(start)}});
    if (!st.ok()) return Failed(st);
    Observe(resp->server_side_session_id());
    return Status::OK();
  }

  Result<std::string> SparkVersion() {
    pb::AnalyzePlanRequest req;
    Fill(&req);
    req.mutable_spark_version();
    pb::AnalyzePlanResponse resp;
    auto ctx = Context(options_.call_timeout);
    const auto start = std::chrono::steady_clock::now();
    grpc::Status st = stub_->AnalyzePlan(ctx.get(), req, &resp);
    if (Debugging()) log::Debug("spark version", {{"ms", MsSince(start)}});
    if (!st.ok()) return Failed(st);
    Observe(resp.server_side_session_id());
    return resp.spark_version().version();
  }

  Result<pb::DataType> Schema(const pb::Relation& input) {
    pb::AnalyzePlanRequest req;
    Fill(&req);
    *req.mutable_schema()->mutable_plan()->mutable_root() = input;
    pb::AnalyzePlanResponse resp;
    auto ctx = Context(std::chrono::milliseconds(0));  // a statement's analysis: no deadline
    const auto start = std::chrono::steady_clock::now();
    grpc::Status st = stub_->AnalyzePlan(ctx.get(), req, &resp);
    if (Debugging()) {
      log::Debug("spark schema",
                 {{"ms", MsSince(start)},
                  {"ok", st.ok()},
                  {"sql", input.has_sql() ? Shortened(input.sql().query(), 300) : ""}});
    }
    if (!st.ok()) return Failed(st);
    Observe(resp.server_side_session_id());
    if (!resp.has_schema() || !resp.schema().has_schema()) {
      return Status::Engine("Spark Connect: the schema analysis answered no schema");
    }
    return resp.schema().schema();
  }

 private:
  // The fields every request carries.
  template <typename Request>
  void Fill(Request* req) {
    req->set_session_id(session_id_);
    req->mutable_user_context()->set_user_id(remote_.user_id.empty() ? LocalUser()
                                                                     : remote_.user_id);
    req->set_client_type(remote_.user_agent.empty() ? kClientType : remote_.user_agent);
    if constexpr (requires { req->set_client_observed_server_side_session_id(""); }) {
      // The server refuses the call when it restarted since (the session's confs are gone).
      if (!server_side_session_id_.empty()) {
        req->set_client_observed_server_side_session_id(server_side_session_id_);
      }
    }
  }

  std::unique_ptr<grpc::ClientContext> Context(std::chrono::milliseconds timeout) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (timeout.count() > 0) ctx->set_deadline(std::chrono::system_clock::now() + timeout);
    if (!remote_.token.empty()) ctx->AddMetadata("authorization", "Bearer " + remote_.token);
    for (const auto& [key, value] : remote_.headers) ctx->AddMetadata(key, value);
    return ctx;
  }

  // A failed call's status. When the server may have lost our session (it restarted or was
  // unreachable), the next call starts a new one: sending the old one would be refused
  // forever once the server restarted. Nothing server-side outlives an operation (each sets
  // its confs afresh), so the caller's retry of the whole operation is safe in a new session.
  Status Failed(const grpc::Status& st) {
    if (SessionMayBeLost(st) && !configured_session_id_) {
      session_id_ = NewUuid();
      server_side_session_id_.clear();
    }
    return FromGrpc(st, remote_);
  }

  void Observe(const std::string& server_side_session_id) {
    if (server_side_session_id_.empty()) server_side_session_id_ = server_side_session_id;
  }

  // One ExecutePlan call: Arrow batches into rows, a SQL command's (or a checkpoint's)
  // relation into relation.
  Status Execute(const pb::Plan& plan, QueryRows* rows, pb::Relation* relation) {
    pb::ExecutePlanRequest req;
    Fill(&req);
    req.set_operation_id(NewUuid());
    *req.mutable_plan() = plan;
    auto ctx = Context(std::chrono::milliseconds(0));
    std::unique_ptr<grpc::ClientReader<pb::ExecutePlanResponse>> reader =
        stub_->ExecutePlan(ctx.get(), req);
    pb::ExecutePlanResponse resp;
    Status decoded;
    while (reader->Read(&resp)) {
      Observe(resp.server_side_session_id());
      if (!decoded.ok()) continue;  // drain the stream; report after it ends
      if (resp.has_arrow_batch()) {
        decoded = AppendArrowIpc(resp.arrow_batch().data(), rows);
      } else if (resp.has_sql_command_result() && relation != nullptr) {
        *relation = resp.sql_command_result().relation();
      } else if (resp.has_checkpoint_command_result() && relation != nullptr) {
        *relation->mutable_cached_remote_relation() = resp.checkpoint_command_result().relation();
      }
    }
    grpc::Status st = reader->Finish();
    if (!st.ok()) return Failed(st);
    return decoded;
  }

  SparkRemote remote_;
  Options options_;
  std::string session_id_;
  bool configured_session_id_ = false;  ///< the connection string named it: never replaced
  std::string server_side_session_id_;
  std::optional<bool> checkpoints_;  ///< the server has CheckpointCommand (Spark 4.0+)
  std::unique_ptr<pb::SparkConnectService::Stub> stub_;
};

SparkSession::SparkSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SparkSession::~SparkSession() = default;

Result<std::unique_ptr<SparkSession>> SparkSession::Connect(const SparkRemote& remote,
                                                            const Options& options) {
  return std::unique_ptr<SparkSession>(new SparkSession(std::make_unique<Impl>(remote, options)));
}

const SparkRemote& SparkSession::remote() const { return impl_->remote(); }
const std::string& SparkSession::session_id() const { return impl_->session_id(); }
Result<QueryRows> SparkSession::Sql(const std::string& sql) { return impl_->Sql(sql); }
Result<std::string> SparkSession::SparkVersion() { return impl_->SparkVersion(); }
Result<QueryRows> SparkSession::Execute(const pb::Plan& plan) { return impl_->Run(plan); }
Result<bool> SparkSession::CanCheckpoint() { return impl_->CanCheckpoint(); }
Result<pb::DataType> SparkSession::Schema(const pb::Relation& input) {
  return impl_->Schema(input);
}
Result<std::optional<pb::Relation>> SparkSession::LocalCheckpoint(const pb::Relation& input,
                                                                  const pb::StorageLevel* level) {
  return impl_->LocalCheckpoint(input, level);
}
Status SparkSession::ReleaseCheckpoint(const pb::Relation& checkpoint) {
  return impl_->ReleaseCheckpoint(checkpoint);
}

Status SparkSession::SetConf(const std::string& key, const std::string& value) {
  pb::ConfigRequest::Operation op;
  pb::KeyValue* pair = op.mutable_set()->add_pairs();
  pair->set_key(key);
  pair->set_value(value);
  pb::ConfigResponse resp;
  return impl_->Config(op, &resp);
}

Status SparkSession::UnsetConf(const std::string& key) {
  pb::ConfigRequest::Operation op;
  op.mutable_unset()->add_keys(key);
  pb::ConfigResponse resp;
  return impl_->Config(op, &resp);
}

Result<std::optional<std::string>> SparkSession::GetConf(const std::string& key) {
  pb::ConfigRequest::Operation op;
  op.mutable_get_option()->add_keys(key);
  pb::ConfigResponse resp;
  DL_RETURN_IF_ERROR(impl_->Config(op, &resp));
  if (resp.pairs_size() != 1 || resp.pairs(0).key() != key) {
    return Status::Engine("Spark Connect: the Config call answered no value for '{}'", key);
  }
  if (!resp.pairs(0).has_value()) return std::optional<std::string>();
  return std::optional<std::string>(resp.pairs(0).value());
}

}  // namespace dl::engine::spark
