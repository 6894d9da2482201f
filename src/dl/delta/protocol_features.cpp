// Table features: which a table needs, which we can read and write, and protocol shape checks.
#include "dl/delta/protocol_features.hpp"

#include <algorithm>
#include <functional>

#include "dl/delta/column_mapping.hpp"
#include "dl/delta/type_widening.hpp"

namespace dl::delta {
namespace {

using Features = std::vector<std::string>;

// Features a legacy (pre table-features) protocol implies, with the versions that imply them.
struct LegacyFeature {
  const char* name;
  int32_t reader;
  int32_t writer;
};
constexpr LegacyFeature kLegacy[] = {{"appendOnly", 1, 2},       {"invariants", 1, 2},
                                     {"checkConstraints", 1, 3}, {"changeDataFeed", 1, 4},
                                     {"generatedColumns", 1, 4}, {"columnMapping", 2, 5},
                                     {"identityColumns", 1, 6}};

// Reader-writer features: listed in readerFeatures as well as writerFeatures.
constexpr std::string_view kReaderWriter[] = {
    "columnMapping",        "deletionVectors", "timestampNtz",        "typeWidening",
    "typeWidening-preview", "v2Checkpoint",    "variantType",         "variantType-preview",
    "vacuumProtocolCheck",  "catalogManaged",  "catalogOwned-preview"};

template <typename List>
bool Contains(const List& list, std::string_view name) {
  return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

const LegacyFeature* FindLegacy(std::string_view name) {
  for (const LegacyFeature& f : kLegacy) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

bool ConfigTrue(const StringMap& config, const std::string& key) {
  auto it = config.find(key);
  if (it == config.end()) return false;
  std::string v = it->second;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "true";
}

bool HasConfigPrefix(const StringMap& config, std::string_view prefix) {
  auto it = config.lower_bound(std::string(prefix));
  return it != config.end() && it->first.starts_with(prefix);
}

std::string MappingModeName(const StringMap& config) {
  auto it = config.find("delta.columnMapping.mode");
  return it == config.end() ? "none" : it->second;
}

// Calls fn(path, field) for every field, recursing through structs, arrays and maps.
void VisitFields(const std::vector<StructField>& fields, const std::string& prefix,
                 const std::function<void(const std::string&, const StructField&)>& fn) {
  std::function<void(const DataType&, const std::string&)> visit_type =
      [&](const DataType& t, const std::string& path) {
        if (t.kind == DataType::Kind::kStruct) VisitFields(t.fields, path + ".", fn);
        if (t.kind == DataType::Kind::kArray) visit_type(*t.element, path);
        if (t.kind == DataType::Kind::kMap) {
          visit_type(*t.key, path);
          visit_type(*t.value, path);
        }
      };
  for (const StructField& f : fields) {
    fn(prefix + f.name, f);
    if (f.type) visit_type(*f.type, prefix + f.name);
  }
}

// The first column whose field metadata has a key starting with `prefix`, or "".
std::string ColumnWithMetadata(const Schema& schema, std::string_view prefix) {
  std::string found;
  VisitFields(schema.fields, "", [&](const std::string& path, const StructField& f) {
    if (!found.empty() || !f.metadata.is_object()) return;
    for (auto it = f.metadata.begin(); it != f.metadata.end(); ++it) {
      if (it.key().starts_with(prefix)) found = path;
    }
  });
  return found;
}

// Every feature the schema and configuration make necessary, in a stable order
// (legacy features first, as Spark lists them after an upgrade).
Features NeededFeatures(const Schema& schema, const StringMap& config, bool clustered = false) {
  Features out;
  auto need = [&](const char* name, bool cond) {
    if (cond) out.push_back(name);
  };
  need("appendOnly", ConfigTrue(config, "delta.appendOnly"));
  need("invariants",
       SchemaHasNotNull(schema) || !ColumnWithMetadata(schema, "delta.invariants").empty());
  need("checkConstraints", HasConfigPrefix(config, "delta.constraints."));
  need("changeDataFeed", ConfigTrue(config, "delta.enableChangeDataFeed"));
  need("generatedColumns", !ColumnWithMetadata(schema, "delta.generationExpression").empty());
  need("columnMapping", MappingModeName(config) != "none");
  need("identityColumns", !ColumnWithMetadata(schema, "delta.identity.").empty());
  need("deletionVectors", ConfigTrue(config, "delta.enableDeletionVectors"));
  need("timestampNtz", SchemaUses(schema, "timestamp_ntz"));
  need("variantType", SchemaUses(schema, "variant"));
  need("typeWidening", ConfigTrue(config, kEnableTypeWideningKey) ||
                           !ColumnWithMetadata(schema, kTypeChangesKey).empty());
  need("inCommitTimestamp", ConfigTrue(config, "delta.enableInCommitTimestamps"));
  const bool row_tracking = ConfigTrue(config, "delta.enableRowTracking");
  need("domainMetadata", row_tracking || clustered);  // both keep state in a domain
  need("rowTracking", row_tracking);
  need("clustering", clustered);
  auto policy = config.find("delta.checkpointPolicy");
  need("v2Checkpoint", policy != config.end() && policy->second == "v2");
  need("icebergCompatV1", ConfigTrue(config, "delta.enableIcebergCompatV1"));
  need("icebergCompatV2", ConfigTrue(config, "delta.enableIcebergCompatV2"));
  // `delta.feature.<name> = supported` asks for a feature by name (as Spark's TBLPROPERTIES).
  constexpr std::string_view kFeaturePrefix = "delta.feature.";
  for (auto it = config.lower_bound(std::string(kFeaturePrefix));
       it != config.end() && it->first.starts_with(kFeaturePrefix); ++it) {
    std::string value = it->second;
    std::transform(value.begin(), value.end(), value.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    const std::string name = it->first.substr(kFeaturePrefix.size());
    if ((value == "supported" || value == "enabled") && !Contains(out, name)) out.push_back(name);
  }
  if ((Contains(out, "rowTracking") || Contains(out, "clustering")) &&
      !Contains(out, "domainMetadata")) {
    out.push_back("domainMetadata");  // what both keep their state in
  }
  return out;
}

void AddUnique(Features* list, const std::string& f) {
  if (!Contains(*list, f)) list->push_back(f);
}

// A table-features protocol listing `writer` (and the reader-writer ones as reader features).
Protocol FeatureProtocol(const Features& writer) {
  Protocol p;
  p.min_writer_version = 7;
  p.writer_features = Features();
  Features reader;
  for (const std::string& f : writer) {
    AddUnique(&*p.writer_features, f);
    if (Contains(kReaderWriter, f)) AddUnique(&reader, f);
  }
  p.min_reader_version = reader.empty() ? 1 : 3;
  if (!reader.empty()) p.reader_features = std::move(reader);
  return p;
}

// The smallest legacy protocol at least `base` that implies all of `features`, if any.
std::optional<Protocol> LegacyProtocol(const Features& features, Protocol base) {
  for (const std::string& f : features) {
    const LegacyFeature* lf = FindLegacy(f);
    if (!lf) return std::nullopt;
    base.min_reader_version = std::max(base.min_reader_version, lf->reader);
    base.min_writer_version = std::max(base.min_writer_version, lf->writer);
  }
  return base;
}

Features ImpliedByLegacy(int32_t reader, int32_t writer) {
  Features out;
  for (const LegacyFeature& f : kLegacy) {
    if (writer >= f.writer || (f.reader > 1 && reader >= f.reader)) out.push_back(f.name);
  }
  return out;
}

Status CannotRead(const std::string& table, std::string_view feature) {
  return Status::Unsupported("table {} uses reader feature {}, which data_loader cannot read yet",
                             table, feature);
}

// Name and id modes are read by physical name (see column_mapping.hpp); the schema must carry
// a physical name and id for every column.
Status CheckColumnMappingReadable(const Metadata& metadata, const std::string& table) {
  if (MappingModeName(metadata.configuration) == "none") return Status::OK();
  auto schema = ParseSchemaString(metadata.schema_string);
  if (!schema.ok()) return schema.status().WithContext(fmt::format("table {}", table));
  return CheckColumnMapping(*schema, metadata.configuration, table);
}

// Type widening: every recorded type change must be one we convert on read.
Status CheckTypeWideningReadable(const Metadata& metadata, const std::string& table) {
  auto schema = ParseSchemaString(metadata.schema_string);
  if (!schema.ok()) return schema.status().WithContext(fmt::format("table {}", table));
  return CheckTypeChanges(*schema, table);
}

// Whether one writer feature puts an obligation on us that we do not implement. Features
// whose obligations only apply when enabled are checked against the table's metadata.
Status CheckWriterFeature(const std::string& f, const Metadata& m, const Schema& schema,
                          const std::string& table) {
  auto refuse = [&]() {
    return Status::Unsupported(
        "table {} uses writer feature {}, which data_loader cannot write yet", table, f);
  };
  // rowTracking: every add gets fresh row ids (delta/row_tracking.hpp); rewritten rows keep
  // theirs in the materialized columns (table/), and rewrites that cannot are refused there.
  // clustering: appends are not constrained; OPTIMIZE sorts by the clustering columns.
  if (f == "rowTracking" || f == "clustering") return Status::OK();
  // deletionVectors: writers that delete rows may mark them in a DV (only while
  // delta.enableDeletionVectors is true); appends are unaffected, vacuum keeps DV files.
  // inCommitTimestamp: Transaction writes commitInfo.inCommitTimestamp while enabled.
  // v2Checkpoint: our checkpoints of such a table follow the v2 spec (maintenance.hpp).
  if (f == "appendOnly" || f == "timestampNtz" || f == "domainMetadata" ||
      f == "vacuumProtocolCheck" || f == "deletionVectors" || f == "inCommitTimestamp" ||
      f == "v2Checkpoint") {
    return Status::OK();
  }
  // invariants (NOT NULL and SQL), checkConstraints and generatedColumns: every row written
  // is checked (table/table_rules.hpp); generated columns the data lacks are computed.
  if (f == "invariants" || f == "checkConstraints" || f == "generatedColumns") {
    return Status::OK();
  }
  // changeDataFeed: while enabled, writes that rewrite rows (copy-on-write, deletion vectors)
  // add cdc files with the changed rows (table/change_data.cpp); appends, overwrites and
  // removes of whole files need none.
  if (f == "changeDataFeed") return Status::OK();
  // columnMapping: data files, partition values and stats use physical names, new columns get
  // fresh ids (checked readable before any writer feature).
  if (f == "columnMapping") return Status::OK();
  // identityColumns: values are allocated above the high-water mark, which the commit moves
  // (table/table_rules.hpp); rewrites keep the values of the table's rows (table/write.cpp).
  if (f == "identityColumns") return Status::OK();
  // typeWidening: schema evolution widens only as the protocol allows, while
  // delta.enableTypeWidening is true, recording each change in delta.typeChanges (schema.hpp);
  // schema updates keep the field metadata.
  if (f == "typeWidening" || f == "typeWidening-preview") return Status::OK();
  return refuse();
}

}  // namespace

Protocol RequiredProtocol(const Schema& schema, const StringMap& configuration, bool clustered) {
  Features needed = NeededFeatures(schema, configuration, clustered);
  if (auto legacy = LegacyProtocol(needed, Protocol{1, 2, std::nullopt, std::nullopt})) {
    return *legacy;
  }
  return FeatureProtocol(needed);  // only what is needed, as Spark does for a new table
}

Protocol UpgradeProtocol(const Protocol& current, const Schema& schema,
                         const StringMap& configuration) {
  Features needed = NeededFeatures(schema, configuration);
  if (current.writer_features && Contains(*current.writer_features, "typeWidening-preview")) {
    // Delta 3's preview of the feature serves; readers of the table may not know the stable one.
    std::erase(needed, "typeWidening");
  }
  if (current.min_writer_version < 7) {
    if (auto legacy = LegacyProtocol(needed, current)) return *legacy;
    // Moving to table features: keep what the old versions implied, then add the new needs.
    Features all = ImpliedByLegacy(current.min_reader_version, current.min_writer_version);
    for (const std::string& f : needed) AddUnique(&all, f);
    return FeatureProtocol(all);
  }
  Protocol p = current;
  Features writer = p.writer_features.value_or(Features());
  Features reader = p.reader_features.value_or(Features());
  if (p.min_reader_version == 2) AddUnique(&reader, "columnMapping");
  for (const std::string& f : needed) {
    AddUnique(&writer, f);
    if (Contains(kReaderWriter, f)) AddUnique(&reader, f);
  }
  for (const std::string& f : reader) AddUnique(&writer, f);
  p.writer_features = std::move(writer);
  if (!reader.empty()) {
    p.min_reader_version = 3;
    p.reader_features = std::move(reader);
  }
  return p;
}

Status CheckCanRead(const Protocol& protocol, const Metadata& metadata, const std::string& table) {
  const int32_t v = protocol.min_reader_version;
  if (v > 3) {
    return Status::Unsupported(
        "table {} requires reader version {}, which data_loader cannot "
        "read (it supports up to 3)",
        table, v);
  }
  if (v == 2) return CheckColumnMappingReadable(metadata, table);
  if (v < 3 || !protocol.reader_features) return Status::OK();
  for (const std::string& f : *protocol.reader_features) {
    // deletionVectors: the engine drops the rows each file's DV marks deleted.
    if (f == "timestampNtz" || f == "vacuumProtocolCheck" || f == "deletionVectors" ||
        f == "v2Checkpoint") {
      continue;
    }
    if (f == "columnMapping") {
      DL_RETURN_IF_ERROR(CheckColumnMappingReadable(metadata, table));
      continue;
    }
    // typeWidening: files written before a type change are cast to the current type on read.
    if (f == "typeWidening" || f == "typeWidening-preview") {
      DL_RETURN_IF_ERROR(CheckTypeWideningReadable(metadata, table));
      continue;
    }
    return CannotRead(table, f);
  }
  return Status::OK();
}

Status CheckCanWrite(const Protocol& protocol, const Metadata& metadata, const std::string& table) {
  DL_RETURN_IF_ERROR(CheckCanRead(protocol, metadata, table));  // writing needs reading
  const int32_t v = protocol.min_writer_version;
  if (v > 7) {
    return Status::Unsupported(
        "table {} requires writer version {}, which data_loader cannot "
        "write (it supports up to 7)",
        table, v);
  }
  auto schema = ParseSchemaString(metadata.schema_string);
  if (!schema.ok()) return schema.status().WithContext(fmt::format("table {}", table));
  Features features = v == 7 ? protocol.writer_features.value_or(Features())
                             : ImpliedByLegacy(protocol.min_reader_version, v);
  for (const std::string& f : features) {
    DL_RETURN_IF_ERROR(CheckWriterFeature(f, metadata, *schema, table));
    if ((f == "rowTracking" || f == "clustering") && !Contains(features, "domainMetadata")) {
      return Status::Unsupported(
          "table {} lists writer feature {} without domainMetadata, which it requires; "
          "data_loader does not write to it",
          table, f);
    }
  }
  return Status::OK();
}

bool ChangeDataFeedEnabled(const StringMap& configuration) {
  return ConfigTrue(configuration, "delta.enableChangeDataFeed");
}

bool UsesV2Checkpoints(const Protocol& protocol) {
  return protocol.reader_features && Contains(*protocol.reader_features, "v2Checkpoint");
}

Status ValidateProtocol(const Protocol& p, const std::string& table) {
  auto bad = [&](std::string_view why) {
    return Status::CorruptLog(
        "table {} has an invalid protocol (minReaderVersion {}, "
        "minWriterVersion {}): {}",
        table, p.min_reader_version, p.min_writer_version, why);
  };
  if (p.min_reader_version < 1 || p.min_writer_version < 1) return bad("versions start at 1");
  if ((p.min_reader_version == 3) != p.reader_features.has_value()) {
    return bad("readerFeatures must be present exactly when minReaderVersion is 3");
  }
  if ((p.min_writer_version == 7) != p.writer_features.has_value()) {
    return bad("writerFeatures must be present exactly when minWriterVersion is 7");
  }
  if (p.min_reader_version == 3 && p.min_writer_version < 7) {
    return bad("reader version 3 needs writer version 7");
  }
  for (const std::string& f : p.reader_features.value_or(Features())) {
    if (!Contains(*p.writer_features, f)) {
      return bad(fmt::format("reader feature {} is not listed in writerFeatures", f));
    }
  }
  return Status::OK();
}

}  // namespace dl::delta
