#include "dl/cli/table_api.hpp"

#include <cerrno>
#include <functional>
#include <memory>
#include <string>

#include "dl/cli/table_session.hpp"
#include "dl/engine/arrow_c.hpp"

namespace dl::cli {
namespace {

// The request opened as the CLI opens PATH (storage options parsed, path resolved).
Result<TableArgs> Open(const TableRequest& r) {
  TableArgs a;
  a.path = r.path;
  a.version = r.version;
  a.from_version = r.from_version;
  a.to_version = r.to_version;
  a.timestamp = r.timestamp;
  a.where = r.where;
  a.where_name = "where";
  a.limit = r.limit;
  a.storage_options = r.storage_options;
  DL_RETURN_IF_ERROR(OpenStorage(a));
  return a;
}

// An error naming the table, with the storage option values masked.
Status Named(const Status& st, const TableArgs& a) {
  if (st.ok() || st.message().find(a.path) != std::string::npos) return MaskStatus(st, a.masked);
  return MaskStatus(Status(st.code(), fmt::format("table {}: {}", a.path, st.message())), a.masked);
}

// The engine's stream with everything it reads through: the session (engine, storage) lives
// as long as the stream, and read errors are named after the table.
struct OwnedStream {
  TableArgs args;
  Session session;
  ArrowArrayStream inner{};
  std::string error;

  ~OwnedStream() {
    if (inner.release) inner.release(&inner);
  }
};

OwnedStream* Owned(ArrowArrayStream* s) { return static_cast<OwnedStream*>(s->private_data); }

int Forward(OwnedStream* o, int rc) {
  if (rc == 0) return 0;
  const char* e = o->inner.get_last_error(&o->inner);
  o->error = Named(Status::Engine("{}", e ? e : "cannot read the scan"), o->args).message();
  return rc;
}

int GetSchema(ArrowArrayStream* s, ArrowSchema* out) {
  auto* o = Owned(s);
  return Forward(o, o->inner.get_schema(&o->inner, out));
}

int GetNext(ArrowArrayStream* s, ArrowArray* out) {
  auto* o = Owned(s);
  return Forward(o, o->inner.get_next(&o->inner, out));
}

const char* GetLastError(ArrowArrayStream* s) {
  auto* o = Owned(s);
  return o->error.empty() ? nullptr : o->error.c_str();
}

void Release(ArrowArrayStream* s) {
  delete Owned(s);
  s->release = nullptr;
}

// The rows of the query `prepare` returns as a stream in `out` that owns its session.
Status StreamRows(const TableRequest& request, ArrowArrayStream* out,
                  const std::function<Result<std::string>(Session&, const TableArgs&)>& prepare) {
  DL_ASSIGN_OR_RETURN(TableArgs args, Open(request));
  auto owned = std::make_unique<OwnedStream>();
  owned->args = std::move(args);
  const TableArgs& a = owned->args;
  auto session = OpenSession(a);
  if (!session.ok()) return Named(session.status(), a);
  owned->session = std::move(*session);
  auto sql = prepare(owned->session, a);
  if (!sql.ok()) return Named(sql.status(), a);
  Status st = owned->session.engine->QueryArrow(*sql, &owned->inner);
  if (!st.ok()) return Named(st, a);
  out->get_schema = GetSchema;
  out->get_next = GetNext;
  out->get_last_error = GetLastError;
  out->release = Release;
  out->private_data = owned.release();
  return Status::OK();
}

}  // namespace

Status ScanTableToArrow(const TableRequest& request, ArrowArrayStream* out) {
  return StreamRows(request, out, [&](Session& s, const TableArgs& a) {
    return PrepareScan(s, a, request.columns);
  });
}

Status TableChangesToArrow(const TableRequest& request, ArrowArrayStream* out) {
  return StreamRows(request, out, PrepareChanges);
}

Result<nlohmann::ordered_json> DescribeTable(const TableRequest& request) {
  DL_ASSIGN_OR_RETURN(TableArgs a, Open(request));
  auto describe = [&]() -> Result<nlohmann::ordered_json> {
    DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
    DL_ASSIGN_OR_RETURN(auto snap, SnapshotFor(s, a));
    return DescribeJson(a, *snap);
  };
  auto j = describe();
  if (!j.ok()) return Named(j.status(), a);
  return j;
}

Result<nlohmann::ordered_json> TableHistory(const TableRequest& request) {
  DL_ASSIGN_OR_RETURN(TableArgs a, Open(request));
  auto j = HistoryJson(a);
  if (!j.ok()) return Named(j.status(), a);
  return j;
}

}  // namespace dl::cli
