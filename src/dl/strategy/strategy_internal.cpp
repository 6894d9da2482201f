#include "dl/strategy/strategy_internal.hpp"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "dl/common/logging.hpp"
#include "dl/engine/expression_check.hpp"
#include "dl/storage/stat_many.hpp"

namespace dl::strategy::internal {

Result<std::shared_ptr<const delta::Snapshot>> LoadTarget(table::TableContext& ctx,
                                                          const std::string& root) {
  auto loaded = table::LoadSnapshot(ctx, root);
  if (!loaded.ok() && loaded.status().code() == StatusCode::kNotFound) {
    return std::shared_ptr<const delta::Snapshot>();
  }
  return loaded;
}

Status CheckColumnsPresent(const std::vector<std::string>& wanted,
                           const std::vector<std::string>& have, const char* key,
                           const Target& target) {
  for (const auto& k : wanted) {
    if (std::find(have.begin(), have.end(), k) == have.end()) {
      return Status::SchemaMismatch("{} column '{}' of {} is not in the files", key, k,
                                    target.display_name);
    }
  }
  return Status::OK();
}

table::SchemaEvolution WriteEvolution(const config::TableConfig& t) {
  switch (t.schema_evolution_mode) {
    case config::SchemaEvolutionMode::kAddNewColumns:
      return table::SchemaEvolution::kAddNewColumns;
    case config::SchemaEvolutionMode::kRescue:
      // New source columns were folded into the rescued column (ProjectSource); the table
      // may only gain that one.
      return table::SchemaEvolution::kAddNewColumns;
    case config::SchemaEvolutionMode::kFailOnNewColumns:
    case config::SchemaEvolutionMode::kNone:
      return table::SchemaEvolution::kNone;
  }
  return table::SchemaEvolution::kNone;
}

// Test hook (never set in production): with <variable>=<path>, the caller waits until <path>
// exists; it creates <path>.waiting first so a test knows it is held. DL_TEST_PAUSE_BEFORE_COMMIT
// holds every batch commit of this process, its data files written (a remote engine's batch:
// before the engine's write, its txn version taken), so another loader can win a commit race
// deterministically.
Status PauseForTests(FileSystem& fs, const char* variable) {
  const char* release = std::getenv(variable);
  if (release == nullptr || *release == '\0') return Status::OK();
  (void)fs.WriteAtomic(std::string(release) + ".waiting", "");
  for (;;) {
    DL_ASSIGN_OR_RETURN(bool released, fs.Exists(release));
    if (released) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

namespace {

// NotFound naming the file when `now` is not the version planned: gone, or another size,
// modification time or (where both have one) ETag. An object overwritten in place within the
// second with the same size differs only in its ETag.
Status CheckUnchanged(const table::SourceFile& planned, const Result<FileEntry>& now) {
  if (!now.ok()) {
    return Status::NotFound("{} disappeared while it was being loaded", planned.path);
  }
  std::string change;
  if (now->size != planned.size) {
    change = fmt::format("size {} -> {}", planned.size, now->size);
  } else if (!SameModificationTime(planned.path, planned.modification_time_ms,
                                   now->modification_time_ms)) {
    change = fmt::format("modification time {} -> {} ms", planned.modification_time_ms,
                         now->modification_time_ms);
  } else if (!planned.etag.empty() && !now->etag.empty() && now->etag != planned.etag) {
    change = fmt::format("same size and modification time, ETag {} -> {}", planned.etag, now->etag);
  } else {
    return Status::OK();
  }
  return Status::NotFound(
      "{} changed while it was being loaded ({}); it is loaded again on the next run", planned.path,
      change);
}

}  // namespace

std::string PrepareBatchCommit(table::TableContext& ctx, const Batch& batch,
                               const delta::Snapshot* snapshot,
                               const delta::CommitOptions& commit_options,
                               table::WriteRequest& req) {
  // File batches write no txn: the commit's source files (checked against every commit that
  // won a race) are their idempotency, and a per-process token would collide between
  // processes or grow the snapshot's txn set forever. A Delta source's txn records the source
  // version loaded, which nothing else does.
  std::string app_id;
  if (batch.delta_source) {
    app_id = batch.delta_source->app_id;
    req.txn = delta::SetTransaction{app_id, batch.delta_source->version, std::nullopt};
  }
  req.loader_info.source_files = batch.files;
  req.loader_info.batch_id = batch.id;
  req.commit_options = commit_options;
  if (batch.delta_source) {
    req.before_commit = [&ctx]() { return PauseForTests(ctx.fs, kPauseBeforeCommit); };
  } else {
    // The commit records each file's version as planned (size, mtime, ETag); a file rewritten
    // (or deleted) while it was read may have given us part of either version, so it must not
    // commit.
    req.before_commit = [&ctx, &batch]() -> Status {
      DL_RETURN_IF_ERROR(PauseForTests(ctx.fs, kPauseBeforeCommit));
      std::vector<std::string> paths;
      for (const auto& f : batch.files) paths.push_back(f.path);
      // On an object store a directory's files come from one listing of it, not a HEAD each.
      std::vector<Result<FileEntry>> stats = StatFiles(ctx.fs, paths);
      for (size_t i = 0; i < batch.files.size(); ++i) {
        DL_RETURN_IF_ERROR(CheckUnchanged(batch.files[i], stats[i]));
      }
      return Status::OK();
    };
  }
  return app_id;
}

Status TxnTakenError(const std::string& app_id, const Target& target) {
  return Status::CommitConflict("txn {} of {} was already applied by another writer", app_id,
                                target.display_name);
}

void PhaseTimer::operator()(const char* name) {
  auto now = std::chrono::steady_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_).count();
  log::Debug(message_, {{"table", table_}, {"phase", name}, {"ms", ms}});
  start_ = now;
}

Result<std::vector<std::string>> PredicateColumns(engine::Engine& engine,
                                                  const std::string& predicate, const char* key) {
  DL_ASSIGN_OR_RETURN(
      auto refs, engine::CheckExpression(engine, predicate, key, engine::Qualifiers::kNotTarget));
  std::vector<std::string> out;
  for (const auto& names : refs) out.push_back(names.back());
  return out;
}

}  // namespace dl::strategy::internal
