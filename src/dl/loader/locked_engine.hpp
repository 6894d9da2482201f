// The embedded engine of config-driven commands is locked to the locations the config names,
// and the config's SQL fragments are checked before any of them reaches a query.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/config/loader_config.hpp"
#include "dl/engine/engine.hpp"

namespace dl::loader {

/// Engine options whose file access is limited to what `cfg` names: every table's source
/// (source_path_pattern up to its first wildcard), processed_data_path (tables, companions,
/// the tracker), checkpoint_path (state, metrics) and `extra` locations.
engine::EngineOptions LockedEngineOptions(const config::LoaderConfig& cfg,
                                          const std::vector<std::string>& extra = {});

/// A new engine locked to `cfg`'s locations (see LockedEngineOptions).
Result<std::unique_ptr<engine::Engine>> MakeLockedEngine(const config::LoaderConfig& cfg);

/// merge_condition, delete_condition and replace_where of every table checked by
/// engine::CheckExpression in an engine with no file access. Config error naming the config
/// source and line, the table and the key; with `problems`, the same as (line, key path,
/// message) there too.
Status CheckSqlFragments(const config::LoaderConfig& cfg,
                         std::vector<config::ConfigProblem>* problems = nullptr);

}  // namespace dl::loader
