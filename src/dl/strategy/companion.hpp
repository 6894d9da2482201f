// Companion tables: Delta tables whose commits follow a target table's. The SCD2 change store
// (every event a table received, for placing late events exactly) and the quarantine table
// (rows rejected as bad) are written beside the target, but one Delta commit covers one
// table. So their data files are written first, the target's commit records them
// (commitInfo.dataLoader.<role>), and the companion commits them right after, noting the
// target version in its txn. A companion left behind by a crash between the two commits is
// rolled forward before the next batch; one whose target commit never landed never sees its
// files committed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dl/delta/loader_commit_info.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/table/table.hpp"

namespace dl::strategy {

/// Data files written for a companion, not yet committed.
struct CompanionFiles {
  std::string role;  ///< delta::LoaderCommitInfo::companion: "changeStore" or "quarantine"
  std::string root;  ///< the companion table's directory
  std::vector<delta::AddFile> adds;
  std::string schema_string;  ///< the companion's schema once these files are in
};

/// The SCD2 change store of a target table: <target>/_dl_scd2_changes.
std::string ChangeStoreRoot(const std::string& target_root);
/// The quarantine table of a target table: <target>_quarantine, beside it.
std::string QuarantineRoot(const std::string& target_root);

/// Load a companion (null when it does not exist yet).
Result<std::shared_ptr<const delta::Snapshot>> LoadCompanion(table::TableContext& ctx,
                                                             const std::string& root);

/// Write `sql`'s rows as data files of the companion at `root` (nothing is committed).
/// `current` is its snapshot (null: none yet); columns it lacks are added to its schema.
Result<CompanionFiles> WriteCompanionFiles(table::TableContext& ctx, const std::string& role,
                                           const std::string& root, const delta::Snapshot* current,
                                           const std::string& sql);

/// The companion's schema once files of schema `written` are in (`current`: its snapshot,
/// null when none yet): new columns added, widened types kept.
Result<delta::Schema> CompanionSchema(const delta::Snapshot* current, delta::Schema written,
                                      const std::string& root);

/// Record `files` in the target commit's commitInfo.dataLoader fields.
void RecordCompanion(delta::LoaderCommitInfo& info, const CompanionFiles& files);

/// Commit `files` to their companion as belonging to target version `target_version`;
/// nothing happens when the companion already holds them.
Status CommitCompanion(table::TableContext& ctx, const CompanionFiles& files,
                       int64_t target_version);

/// If the target's latest loader commit recorded `role` files its companion at `root` has
/// not committed (a crash between the two commits), commit them now.
Status RollForwardCompanion(table::TableContext& ctx, const delta::Snapshot& target,
                            const std::string& role, const std::string& root);

/// The `role` files that target commit `version` recorded (if any), committed to their
/// companion at `root` (nothing when it holds them already): for an engine that commits the
/// target itself, the commit that landed the batch may be an earlier attempt's.
Status CommitRecordedCompanion(table::TableContext& ctx, const std::string& target_root,
                               int64_t version, const std::string& role,
                               const std::string& root);

}  // namespace dl::strategy
