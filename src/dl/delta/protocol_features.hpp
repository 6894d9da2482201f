// Protocol versions and table features: what a table needs, and whether we may read/write it.
#pragma once

#include <string>

#include "dl/delta/actions.hpp"
#include "dl/delta/schema.hpp"

namespace dl::delta {

/// The smallest protocol for a new table with this schema and configuration: (1,2) unless a
/// feature is needed (timestamp_ntz -> (3,7) with timestampNtz reader+writer features, plus
/// invariants when a column is NOT NULL, appendOnly when delta.appendOnly is set,
/// deletionVectors (reader+writer, so (3,7)) when delta.enableDeletionVectors=true,
/// rowTracking + domainMetadata when delta.enableRowTracking=true, clustering +
/// domainMetadata when `clustered`, icebergCompatV1/V2 when delta.enableIcebergCompatV1/V2=true,
/// and every feature a `delta.feature.<name>` property sets to supported or enabled).
Protocol RequiredProtocol(const Schema& schema, const StringMap& configuration,
                          bool clustered = false);

/// Merge `current` with what `schema`/`configuration` need (used on schema evolution, e.g. a
/// new timestamp_ntz column upgrades (1,2) to (3,7) listing the features implied by (1,2)).
Protocol UpgradeProtocol(const Protocol& current, const Schema& schema,
                         const StringMap& configuration);

/// Unsupported naming the feature and `table` if a reader feature (or reader version > 3)
/// is one we cannot read (variantType, ...). deletionVectors is readable (the engine applies
/// each file's DV), v2Checkpoint too (UUID-named checkpoints, sidecars), typeWidening and
/// typeWidening-preview when every recorded type change is one the protocol allows
/// (type_widening.hpp), and columnMapping in modes name and id when every column has its
/// physical name and id (CorruptLog naming the column otherwise).
Status CheckCanRead(const Protocol& protocol, const Metadata& metadata, const std::string& table);
/// Unsupported naming the feature and `table` if the table needs a writer feature we do not
/// implement (icebergCompat, allowColumnDefaults, ...). changeDataFeed, deletionVectors,
/// columnMapping, inCommitTimestamp, v2Checkpoint, domainMetadata, rowTracking, clustering and
/// typeWidening are writable (rowTracking and clustering only with domainMetadata listed), and
/// so are invariants, checkConstraints, generatedColumns and identityColumns (Write checks
/// every row against the table's rules and allocates identity values, table/table_rules.hpp).
Status CheckCanWrite(const Protocol& protocol, const Metadata& metadata, const std::string& table);

/// Whether the table records its change data feed (delta.enableChangeDataFeed=true; its
/// protocol then has the changeDataFeed feature, which RequiredProtocol/UpgradeProtocol add):
/// writes that rewrite rows add cdc files (table/change_data.cpp).
bool ChangeDataFeedEnabled(const StringMap& configuration);

/// Whether checkpoints of this table follow the v2 spec (reader-writer feature v2Checkpoint).
bool UsesV2Checkpoints(const Protocol& protocol);

/// Validate the protocol action's shape (features present iff versions 3/7, reader features
/// also listed as writer features, no (3,<7)). CorruptLog naming the table on violation.
Status ValidateProtocol(const Protocol& protocol, const std::string& table);

}  // namespace dl::delta
