// Private to dl/strategy: one SCD2 batch planned against one snapshot of its target, split
// over scd2_strategy.cpp (events, planning, commit) and scd2_history.cpp (stored events,
// retire events, versions, files to rewrite).
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dl/engine/duckdb/scd2_sql.hpp"
#include "dl/strategy/bad_rows.hpp"
#include "dl/strategy/companion.hpp"
#include "dl/strategy/load_strategy.hpp"
#include "dl/strategy/strategy_internal.hpp"

namespace dl::strategy::scd2 {

// The SQL of SCD2 is the DuckDB engine's (engine/duckdb/scd2_sql.hpp).
using namespace engine::duck::scd2;  // NOLINT(google-build-using-namespace)

// After every file of the batch: where retire events (retire_absent_keys) sort.
inline constexpr const char* kRetireFileOrder = "2147483647";

inline constexpr const char* kView = "__dl_scd2_src";
inline constexpr const char* kEvents = "__dl_scd2_events";
inline constexpr const char* kBatchKeys = "__dl_scd2_keys";
inline constexpr const char* kLateKeys = "__dl_scd2_late";
inline constexpr const char* kStoreView = "__dl_scd2_store";
inline constexpr const char* kSeed = "__dl_scd2_seed";
inline constexpr const char* kTargetView = "__dl_scd2_target";
// The rows of the files holding the batch's keys, with their file, and without it.
inline constexpr const char* kOld = "__dl_scd2_old";
inline constexpr const char* kKeyRows = "__dl_scd2_key_rows";
inline constexpr const char* kAll = "__dl_scd2_all";
inline constexpr const char* kSteps = "__dl_scd2_steps";
inline constexpr const char* kTouched = "__dl_scd2_touched";
inline constexpr const char* kVersions = "__dl_scd2_versions";
inline constexpr const char* kRewritten = "__dl_scd2_rewritten";
inline constexpr const char* kRewrittenScan = "__dl_scd2_rewritten_scan";  // with row ids

inline std::string Join(const std::vector<std::string>& quoted, const char* sep = ", ") {
  return fmt::format("{}", fmt::join(quoted, sep));
}

inline std::vector<std::string> QuotedAs(const std::vector<std::string>& cols,
                                         const std::string& alias) {
  std::vector<std::string> out;
  for (const auto& c : cols) {
    out.push_back((alias.empty() ? "" : alias + ".") + engine::QuoteIdent(c));
  }
  return out;
}

inline bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// One planning of a batch against one snapshot of the target.
class Scd2Batch {
 public:
  Scd2Batch(table::TableContext& ctx, const Target& target, const Batch& batch)
      : ctx_(ctx),
        engine_(ctx.engine),
        target_(target),
        t_(target.config),
        batch_(batch),
        phase_("scd2", target.display_name) {}
  ~Scd2Batch() { Release(); }

  // Plan and commit. `*replan` is set when the commit lost to a conflicting writer.
  Result<BatchOutcome> Run(const delta::CommitOptions& commit_options, bool* replan);

 private:
  // Everything up to the target commit: events, versions, the files to rewrite, the change
  // store's new files.
  Status Plan(const delta::CommitOptions& commit_options);
  // Debug log of the time since the last phase (what a slow batch spent its time on).
  Status LoadTables(const delta::CommitOptions& commit_options);
  Status ReadEvents();
  Result<std::string> EventsWithDeleteFlag(const std::string& aligned,
                                           const delta::Schema& event_schema);
  Status ResolveColumns(const delta::Schema& event_schema);
  Status ResolveOpenEnd();
  Status AddRetireEvents();
  std::set<std::string> TableColumns() const;
  Status OpenStore();
  Status SeedStore();
  Status FindLateKeys();
  Status BuildVersions();
  Result<std::vector<delta::AddFile>> RewrittenFiles();
  Status RegisterRewritten();
  Result<std::string> VersionsRelation() const;
  Result<std::optional<CompanionFiles>> WriteChangeStore();
  Result<std::map<std::string, int64_t>> RowsPerSourceFile();
  Result<int64_t> Count(const std::string& relation);
  void Release();

  table::TableContext& ctx_;
  engine::Engine& engine_;
  const Target& target_;
  const config::TableConfig& t_;
  const Batch& batch_;

  std::shared_ptr<const delta::Snapshot> snapshot_;  // null: no table yet
  std::shared_ptr<const delta::Snapshot> store_;     // the change store (sequence_column)
  // The stored events as a relation (the store, or kSeed rebuilt from the table) and its
  // columns; empty when there is no history to replay.
  std::string store_relation_;
  std::set<std::string> store_columns_;
  std::vector<delta::AddFile> key_files_;            // files holding the batch's keys
  bool row_ids_ = false;  // row tracking: kOld and kRewritten carry row ids, the write keeps them
  SourceProjection source_;
  BadRows bad_;
  Columns cols_;
  std::string seq_type_;  // the engine type of kSeq
  std::vector<std::string> delete_columns_;  // the columns delete_condition names
  int64_t ordinal_ = 0;   // this batch's place in event order (ties on the sequence value)
  std::vector<delta::AddFile> rewritten_;  // files the commit replaces
  std::vector<table::RowDeletes> row_deletes_;  // or, with deletion vectors, rows it deletes
  std::optional<CompanionFiles> changes_;  // the change store's files of this batch
  internal::PhaseTimer phase_;  // phase_("name"): debug log of the time since the last one
};

}  // namespace dl::strategy::scd2
