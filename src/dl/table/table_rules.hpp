// The rules of a table (CHECK constraints, column invariants, generated columns) enforced on
// every write, and the `table add-constraint` / `drop-constraint` operations (private to
// dl/table; the public operations are in table.hpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dl/delta/actions.hpp"
#include "dl/delta/schema.hpp"
#include "dl/engine/engine.hpp"

namespace dl::table::internal {

/// Every rule of a table with this schema and configuration, compiled for the engine.
/// Unsupported naming the rule and `root` when one cannot be evaluated here. With
/// `kept_identity_values` (a rewrite whose rows of the table keep their identity values) an
/// identity column the table allocates may hold values the table allocated (within its
/// high-water mark); otherwise only NULL (allocated on write).
Result<std::vector<engine::RowRule>> CompileTableRules(engine::Engine& engine,
                                                       const delta::Schema& schema,
                                                       const delta::StringMap& configuration,
                                                       const std::string& root,
                                                       bool kept_identity_values = false);

/// Where the rows about to be written came from, for naming the files that break a rule.
struct RowOrigin {
  std::string source_file_column;         ///< a column of the rows naming each row's file
  std::vector<std::string> source_files;  ///< the write's source files (one: it is named)
};

/// `aligned` (rows aligned to `schema`) with the generated columns filled in where the rows
/// leave them NULL, once every row satisfies every rule. SchemaMismatch otherwise, naming
/// each rule broken, its expression, the files and the number of rows (the files also in the
/// error's detail, so a loader fails only them).
Result<std::string> EnforceTableRules(engine::Engine& engine, const std::string& aligned,
                                      const delta::Schema& schema,
                                      const std::vector<engine::RowRule>& rules,
                                      const delta::StringMap& configuration,
                                      const RowOrigin& origin, const std::string& root);

/// `sql` (rows aligned to `schema`, already through EnforceTableRules) with identity values
/// allocated for the rows that leave an identity column NULL: start + k * step above the
/// column's high-water mark. `*schema` gets the new high-water marks and `*changed` is set
/// when one moved (the write must then commit the new metaData). InvalidArgument when the
/// values would overflow a BIGINT.
Result<std::string> AllocateIdentityValues(engine::Engine& engine, const std::string& sql,
                                           delta::Schema* schema, bool* changed,
                                           const std::string& root);

}  // namespace dl::table::internal
