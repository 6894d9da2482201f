// Unity Catalog names on the Spark engine. The Spark session's own catalog is the catalog
// (Unity Catalog on Databricks, the session catalog on Apache Spark): a table it already
// knows is loaded where it says the table lives, and a table we created is registered in it
// as an external Delta table at our storage path. Our Delta module still reads and commits
// the table's log there, so the exactly-once guarantees are unchanged.
#pragma once

#include <vector>

#include "dl/catalog/registration.hpp"
#include "dl/config/loader_config.hpp"
#include "dl/engine/spark/spark_session.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::cli {

/// Before a run: each Spark table of cfg (use_unity_catalog) that the catalog knows gets its
/// location (TablePath then answers it). A catalog entry that is not a Delta table, or that
/// cannot be looked up, is an error naming the table.
Status ResolveSparkCatalogLocations(config::LoaderConfig& cfg,
                                    engine::spark::SparkSession& session);

/// The same for a command that has no session yet (run, status): connects to cfg's remote
/// when cfg uses Unity Catalog names and has Spark tables; otherwise changes nothing.
Status ResolveSparkCatalogLocations(config::LoaderConfig& cfg);

/// After a pass: each selected Spark table that exists on storage and that the catalog does
/// not know yet is registered (CREATE SCHEMA / TABLE IF NOT EXISTS ... USING delta LOCATION).
/// One table's error never stops the others.
std::vector<catalog::TableRegistration> RegisterInSparkCatalog(
    const config::LoaderConfig& cfg, const std::vector<const config::TableConfig*>& tables,
    FileSystem& fs, engine::spark::SparkSession& session);

}  // namespace dl::cli
