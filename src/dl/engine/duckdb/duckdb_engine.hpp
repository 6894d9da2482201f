// The DuckDB engine: one in-memory database shared by sessions, one connection per session.
// Methods are spread over duckdb_engine.cpp (sessions, SQL, sources), duckdb_snapshot.cpp,
// duckdb_write.cpp and duckdb_checkpoint.cpp.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dl/engine/duckdb/duckdb_handle.hpp"
#include "dl/engine/engine.hpp"

namespace dl::engine::duck {

/// From the footers of checkpoint files: action columns and (column, member) pairs that are
/// null in every row, and the row count.
struct CheckpointLayout {
  std::set<std::string> empty_columns;
  std::set<std::pair<std::string, std::string>> empty_members;
  size_t rows = 0;
};

class DuckDbEngine final : public Engine {
 public:
  DuckDbEngine(std::shared_ptr<Database> db, Connection conn, std::shared_ptr<FileSystem> fs)
      : db_(std::move(db)), conn_(std::move(conn)), fs_(std::move(fs)) {}

  /// Open a session on `db` (its settings were applied and locked by MakeDuckDbEngine); `fs`
  /// is the storage the engine touches itself, shared by all sessions.
  static Result<std::unique_ptr<DuckDbEngine>> Open(std::shared_ptr<Database> db,
                                                    std::shared_ptr<FileSystem> fs);

  std::string_view name() const override { return "duckdb"; }
  Result<std::unique_ptr<Engine>> NewSession() override;

  Status RegisterFiles(const std::string& view, const std::vector<std::string>& files,
                       const SourceOptions& options) override;
  Status RegisterSnapshot(const std::string& view, const delta::Snapshot& snapshot,
                          const std::vector<delta::AddFile>* subset) override;
  Status RegisterSnapshotWithFileColumn(const std::string& view, const delta::Snapshot& snapshot,
                                        const std::vector<delta::AddFile>* subset,
                                        bool row_ids = false) override;
  Status RegisterSnapshotSource(const std::string& view, const delta::Snapshot& snapshot,
                                const std::vector<delta::AddFile>& files,
                                const std::string& file_column,
                                const std::string& row_order_column) override;
  void DropSource(const std::string& view) override;
  Result<std::vector<ColumnInfo>> DescribeColumns(const std::string& sql) override;
  std::string Deduplicate(const std::string& sql, const Deduplication& dedup) const override;
  std::string WithoutColumns(const std::string& sql,
                             const std::vector<std::string>& columns) const override;
  Result<delta::Schema> ResolveColumnTypes(const std::vector<ColumnInfo>& columns) override;
  Status Materialize(const std::string& table, const std::string& sql) override;
  std::string TimestampFromEpochMs(const std::string& ms) const override;
  std::string EpochMsOf(const std::string& ts) const override;
  Result<std::string> AlignToSchema(const std::string& sql, const delta::Schema& schema) override;

  Result<delta::Schema> SchemaOf(const std::string& sql) override;
  Result<std::string> DeltaCompatibleSelect(const std::string& sql) override;

  Result<std::vector<delta::AddFile>> WriteDataFiles(const std::string& sql,
                                                     const std::string& table_root,
                                                     const delta::Schema& table_schema,
                                                     const WriteOptions& options) override;

  Result<std::string> FillGeneratedColumns(const std::string& sql, const delta::Schema& schema,
                                           const std::vector<RowRule>& generated) override;
  Result<std::vector<RuleViolation>> FindRuleViolations(
      const std::string& sql, const delta::Schema& schema, const std::vector<RowRule>& rules,
      const std::string& source_file_column) override;

  Status Execute(const std::string& sql) override;
  Result<QueryRows> Query(const std::string& sql) override;
  Status Export(const std::string& sql, const std::string& path, std::string_view format) override;
  Status QueryArrow(const std::string& sql, ArrowArrayStream* out) override;
  void Interrupt() override { conn_.Interrupt(); }

  Result<std::vector<std::string>> ReadCheckpointActions(
      const std::vector<std::string>& files) override;
  Result<delta::CheckpointActions> ReadCheckpoint(const std::vector<std::string>& files,
                                                  bool with_files) override;
  Status WriteCheckpoint(const std::string& path,
                         const std::vector<std::string>& action_lines) override;

  Connection& connection() { return conn_; }

 private:
  /// What the footers of checkpoint `files` tell (empty if they cannot be read).
  CheckpointLayout InspectCheckpoint(const std::vector<std::string>& files);
  /// A streaming scan of the action columns of checkpoint `files` that hold values (CorruptLog
  /// if unreadable).
  Result<QueryResult> ScanCheckpoint(const std::vector<std::string>& files,
                                     const CheckpointLayout& layout);
  /// Result columns of `sql` (prepared, not run).
  Result<std::vector<Column>> Describe(const std::string& sql, std::string_view context);
  /// WriteDataFiles for a local table root: COPY to a staging directory, then move the files.
  Result<std::vector<delta::AddFile>> WriteLocal(const std::string& select,
                                                 const std::string& table_root,
                                                 const delta::Schema& table_schema,
                                                 const WriteOptions& options);
  /// WriteDataFiles for an object-store table root: COPY straight to the final keys.
  Result<std::vector<delta::AddFile>> WriteToObjectStore(const std::string& select,
                                                         const std::string& table_root,
                                                         const delta::Schema& table_schema,
                                                         const WriteOptions& options);
  /// RegisterFiles without materialize: a view over the files' reader.
  Status RegisterReaderView(const std::string& view, const std::vector<std::string>& files,
                            const SourceOptions& options);
  Status RegisterSnapshotView(const std::string& view, const delta::Snapshot& snapshot,
                              const std::vector<delta::AddFile>* subset, bool with_file_column,
                              bool row_ids);

  std::shared_ptr<Database> db_;
  Connection conn_;
  std::shared_ptr<FileSystem> fs_;
};

}  // namespace dl::engine::duck
