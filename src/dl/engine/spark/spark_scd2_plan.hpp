// Private to spark_scd2.cpp and spark_scd2_store.cpp: the plan of one SCD2 batch on Spark
// (Scd2Plan), the names of its views and columns, and the helpers both files use. What the
// plan does, and why its change store's events are read exactly once: spark_scd2.cpp's
// header comment.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dl/engine/spark/spark_load.hpp"
#include "dl/engine/spark/spark_plan.hpp"

namespace dl::engine::spark {

constexpr const char* kBatchView = "__dl_scd2_batch";
constexpr const char* kNewEvents = "__dl_scd2_new";
// Materialized (Scd2Plan::Materialize): kEvents, read by every later step; kStoreKeys (with a
// store: what the plan needs of it before its steps, from one scan); kLateKeys (with a
// store), kSteps and kVersions, each read again.
constexpr const char* kEvents = "__dl_scd2_events";
constexpr const char* kBatchKeys = "__dl_scd2_keys";
constexpr const char* kStoreKeys = "__dl_scd2_store";
constexpr const char* kLateKeys = "__dl_scd2_late";
constexpr const char* kSteps = "__dl_scd2_steps";
constexpr const char* kTouched = "__dl_scd2_touched";
constexpr const char* kVersions = "__dl_scd2_versions";
// The store's (txn version, batch id) pairs (over kStoreKeys) and, over them, the pairs that
// landed.
constexpr const char* kPairs = "__dl_scd2_pairs";
constexpr const char* kLanded = "__dl_scd2_landed";

// Event columns beside the row's (as in strategy/scd2_sql.hpp) and the change store's.
constexpr const char* kSeq = "__dl_seq";
constexpr const char* kEff = "__dl_eff";
constexpr const char* kDelete = "__dl_delete";
constexpr const char* kPseudo = "__dl_pseudo";
constexpr const char* kOrdinal = "__dl_batch";
constexpr const char* kLate = "__dl_late";
constexpr const char* kStoreDelete = "_dl_event_delete";
constexpr const char* kStoreBatch = "_dl_event_batch";
constexpr const char* kStoreFile = "_dl_event_file";
constexpr const char* kStoreRow = "_dl_event_row";
// The attempt's batch id (NULL: written before it existed, read as landed). A row whose
// delete flag is NULL is no event but a marker: its batch id landed its txn version.
constexpr const char* kStoreBatchId = "_dl_event_batch_id";

inline std::string Id(const std::string& name) { return SparkIdent(name); }

inline std::string Match(const std::vector<std::string>& keys, const std::string& a,
                         const std::string& b) {
  std::vector<std::string> eq;
  for (const auto& k : keys) eq.push_back(fmt::format("`{0}`.{2} = `{1}`.{2}", a, b, Id(k)));
  return fmt::format("{}", fmt::join(eq, " AND "));
}

inline bool In(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The columns of one batch's plan: keys and values (the table's, then the batch's new ones),
// then the audit columns; each with its type (the table's where it has the column).
struct Scd2Columns {
  std::vector<std::string> all, values, tracked, untracked;
  std::map<std::string, std::string> type;
  std::set<std::string> in_batch, in_table;
  std::string seq_type, open_end = "NULL";
};

class Scd2Plan {
 public:
  Scd2Plan(SparkSession& session, const Scd2Operation& op) : s_(session), op_(op) {}
  Result<Scd2Outcome> Run(const ReadFiles& files);
  void Release();

 private:
  Status ResolveColumns();
  Status CreateEvents();
  Status CreateBatchKeys();
  Status OpenStore();
  Status ResolveLanded();
  Status CreateLateKeys();
  Status CreateVersions();
  Status CleanStore();
  Status WidenStore();
  Status CreateClusteredTable();
  Status WriteChangeStore();
  Status CountVersions(Scd2Outcome& out);
  Result<std::optional<int64_t>> Commit();
  Status Sql(const std::string& sql) { return s_.Sql(sql).status(); }
  Status Materialize(const char* view, const std::string& query);
  std::string Table() const { return "delta." + Id(op_.rows.table_root); }
  std::string Ordinal() const { return fmt::format("CAST({} AS BIGINT)", op_.rows.txn_version); }
  std::string Store() const { return "delta." + Id(op_.change_store_root); }
  std::string Stored() const;

  SparkSession& s_;
  Scd2Operation op_;  // a copy: quarantine changes its userMetadata
  Scd2Columns c_;
  std::optional<std::string> landed_;  ///< the batch id that applied applied_txn_version
  /// (txn version, batch id) pairs of the store that never land: of an applied version whose
  /// landed id is known (deleted by the clean-up) or not (left alone); with a NULL id, above
  /// the applied one. None of them is read (Stored()).
  struct DeadPair {
    int64_t version = 0;
    std::optional<std::string> id;
    bool known = false;
    std::string Condition() const {
      return fmt::format("({} = {} AND {})", Id(kStoreBatch), version,
                         id ? fmt::format("{} = {}", Id(kStoreBatchId), SparkLiteral(*id))
                            : fmt::format("{} IS NULL", Id(kStoreBatchId)));
    }
  };
  std::vector<DeadPair> dead_;
  std::vector<pb::Relation> checkpoints_;  ///< Materialize's, released by Release
  bool created_ = false;  ///< the table was created empty by CreateClusteredTable
  /// Generated columns of the table: the MERGE leaves out those the batch lacks.
  std::set<std::string> computed_;
  bool late_ = false;     ///< some key of the batch has a late event (CreateLateKeys)
};

}  // namespace dl::engine::spark
