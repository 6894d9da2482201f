#include "dl/delta/protocol_features.hpp"

#include <gtest/gtest.h>

namespace dl::delta {
namespace {

using Features = std::vector<std::string>;

StructField F(std::string name, const char* type, bool nullable = true,
              nlohmann::json metadata = nlohmann::json::object()) {
  return {std::move(name), DataType::Primitive(type), nullable, std::move(metadata)};
}

Protocol P(int32_t r, int32_t w, std::optional<Features> rf = {}, std::optional<Features> wf = {}) {
  return Protocol{r, w, std::move(rf), std::move(wf)};
}

Metadata M(const Schema& schema, StringMap config = {}) {
  Metadata m;
  m.id = "id";
  m.schema_string = SerializeSchema(schema);
  m.configuration = std::move(config);
  return m;
}

const Schema kPlain{{F("a", "long")}};
const Schema kNtz{{F("a", "long"), F("t", "timestamp_ntz")}};
const Schema kNtzNotNull{{F("a", "long", false), F("t", "timestamp_ntz")}};

TEST(ProtocolFeaturesTest, RequiredProtocol) {
  EXPECT_EQ(RequiredProtocol(kPlain, {}), P(1, 2));
  EXPECT_EQ(RequiredProtocol(Schema{{F("a", "long", false)}}, {}), P(1, 2));
  EXPECT_EQ(RequiredProtocol(kNtz, {}),
            P(3, 7, Features{"timestampNtz"}, Features{"timestampNtz"}));
  EXPECT_EQ(
      RequiredProtocol(kNtzNotNull, {{"delta.appendOnly", "true"}}),
      P(3, 7, Features{"timestampNtz"}, Features{"appendOnly", "invariants", "timestampNtz"}));
  // Legacy-only needs stay legacy: change data feed is writer version 4.
  EXPECT_EQ(RequiredProtocol(kPlain, {{"delta.enableChangeDataFeed", "true"}}), P(1, 4));
  EXPECT_EQ(RequiredProtocol(kPlain, {{"delta.columnMapping.mode", "name"}}), P(2, 5));
  // Writer-only table features give (1,7) without readerFeatures.
  EXPECT_EQ(RequiredProtocol(kPlain, {{"delta.enableInCommitTimestamps", "true"}}),
            P(1, 7, std::nullopt, Features{"inCommitTimestamp"}));
}

// A feature asked for by name, as Spark's `delta.feature.<name> = supported`, is in the
// protocol, so a feature we cannot write is refused before a table is created with it.
TEST(ProtocolFeaturesTest, FeaturesNamedByProperty) {
  EXPECT_EQ(RequiredProtocol(kPlain, {{"delta.feature.deletionVectors", "supported"}}),
            P(3, 7, Features{"deletionVectors"}, Features{"deletionVectors"}));
  EXPECT_EQ(RequiredProtocol(kPlain, {{"delta.feature.rowTracking", "Enabled"}}),
            P(1, 7, std::nullopt, Features{"rowTracking", "domainMetadata"}));
  EXPECT_EQ(RequiredProtocol(kPlain, {{"delta.feature.appendOnly", "nonsense"}}), P(1, 2));
  const StringMap defaults{{"delta.feature.allowColumnDefaults", "supported"}};
  Status st = CheckCanWrite(RequiredProtocol(kPlain, defaults), M(kPlain, defaults), "t");
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("allowColumnDefaults"), std::string::npos) << st.message();
  const StringMap iceberg{{"delta.enableIcebergCompatV2", "true"}};
  st = CheckCanWrite(UpgradeProtocol(P(1, 2), kPlain, iceberg), M(kPlain, iceberg), "t");
  EXPECT_NE(st.message().find("icebergCompatV2"), std::string::npos) << st.message();
}

TEST(ProtocolFeaturesTest, DeletionVectorsProtocol) {
  const StringMap dv_on{{"delta.enableDeletionVectors", "true"}};
  const Protocol dv = P(3, 7, Features{"deletionVectors"}, Features{"deletionVectors"});
  EXPECT_EQ(RequiredProtocol(kPlain, dv_on), dv);
  EXPECT_EQ(RequiredProtocol(kPlain, {{"delta.enableDeletionVectors", "false"}}), P(1, 2));
  // With what the table otherwise needs: legacy-implied writer features are listed too.
  StringMap dv_append = dv_on;
  dv_append["delta.appendOnly"] = "true";
  EXPECT_EQ(RequiredProtocol(kNtzNotNull, dv_append),
            P(3, 7, Features{"deletionVectors", "timestampNtz"},
              Features{"appendOnly", "invariants", "deletionVectors", "timestampNtz"}));
  EXPECT_EQ(RequiredProtocol(kPlain, {{"delta.enableDeletionVectors", "true"},
                                      {"delta.enableChangeDataFeed", "true"}}),
            P(3, 7, Features{"deletionVectors"}, Features{"changeDataFeed", "deletionVectors"}));
  // Upgrades: (1,2) lists what it implied; feature protocols gain it in both lists.
  EXPECT_EQ(UpgradeProtocol(P(1, 2), kPlain, dv_on),
            P(3, 7, Features{"deletionVectors"},
              Features{"appendOnly", "invariants", "deletionVectors"}));
  EXPECT_EQ(UpgradeProtocol(P(1, 7, std::nullopt, Features{"appendOnly"}), kPlain, dv_on),
            P(3, 7, Features{"deletionVectors"}, Features{"appendOnly", "deletionVectors"}));
  EXPECT_EQ(UpgradeProtocol(dv, kPlain, dv_on), dv);
  for (const Protocol& p : {P(1, 2), P(2, 5), P(1, 7, std::nullopt, Features{}), dv}) {
    EXPECT_TRUE(ValidateProtocol(UpgradeProtocol(p, kPlain, dv_on), "t").ok());
  }
  // Readable and writable, enabled or not.
  EXPECT_TRUE(CheckCanRead(dv, M(kPlain), "t").ok());
  EXPECT_TRUE(CheckCanWrite(dv, M(kPlain, dv_on), "t").ok());
  EXPECT_TRUE(CheckCanWrite(dv, M(kPlain), "t").ok());
}

TEST(ProtocolFeaturesTest, RequiredProtocolsAreValid) {
  for (const auto& config : std::vector<StringMap>{{}, {{"delta.appendOnly", "true"}}}) {
    for (const Schema* s : {&kPlain, &kNtz, &kNtzNotNull}) {
      EXPECT_TRUE(ValidateProtocol(RequiredProtocol(*s, config), "t").ok());
    }
  }
}

TEST(ProtocolFeaturesTest, UpgradeProtocol) {
  // Nothing new needed: unchanged.
  EXPECT_EQ(UpgradeProtocol(P(1, 2), kPlain, {}), P(1, 2));
  EXPECT_EQ(UpgradeProtocol(P(1, 4), kPlain, {}), P(1, 4));
  // A new timestamp_ntz column on (1,2) lists the features (1,2) implied.
  EXPECT_EQ(
      UpgradeProtocol(P(1, 2), kNtz, {}),
      P(3, 7, Features{"timestampNtz"}, Features{"appendOnly", "invariants", "timestampNtz"}));
  // Legacy upgrades stay legacy when possible.
  EXPECT_EQ(UpgradeProtocol(P(1, 2), kPlain, {{"delta.enableChangeDataFeed", "true"}}), P(1, 4));
  // Feature protocols gain features, keeping the existing ones first.
  Protocol cur = P(3, 7, Features{"timestampNtz"}, Features{"timestampNtz"});
  EXPECT_EQ(UpgradeProtocol(cur, kNtzNotNull, {}),
            P(3, 7, Features{"timestampNtz"}, Features{"timestampNtz", "invariants"}));
  Protocol writer_only = P(1, 7, std::nullopt, Features{"appendOnly"});
  EXPECT_EQ(UpgradeProtocol(writer_only, kNtz, {}),
            P(3, 7, Features{"timestampNtz"}, Features{"appendOnly", "timestampNtz"}));
  for (const Protocol& p : {P(1, 2), P(1, 3), P(2, 5), P(1, 6), cur, writer_only}) {
    EXPECT_TRUE(ValidateProtocol(UpgradeProtocol(p, kNtzNotNull, {}), "t").ok());
  }
}

TEST(ProtocolFeaturesTest, ValidateProtocolShape) {
  EXPECT_TRUE(ValidateProtocol(P(1, 2), "t").ok());
  EXPECT_TRUE(ValidateProtocol(P(1, 7, std::nullopt, Features{}), "t").ok());
  EXPECT_TRUE(
      ValidateProtocol(P(3, 7, Features{"timestampNtz"}, Features{"timestampNtz"}), "t").ok());
  auto bad = [](const Protocol& p) {
    Status st = ValidateProtocol(p, "/tables/x");
    EXPECT_EQ(st.code(), StatusCode::kCorruptLog);
    EXPECT_NE(st.message().find("/tables/x"), std::string::npos);
  };
  bad(P(3, 7, std::nullopt, Features{"timestampNtz"}));            // readerFeatures missing
  bad(P(1, 7, Features{}, Features{}));                            // readerFeatures on v1
  bad(P(1, 2, std::nullopt, Features{"appendOnly"}));              // writerFeatures on v2
  bad(P(3, 5, Features{"timestampNtz"}, std::nullopt));            // (3, <7)
  bad(P(3, 7, Features{"timestampNtz"}, Features{"appendOnly"}));  // reader not in writer
  bad(P(0, 2));
}

TEST(ProtocolFeaturesTest, CheckCanRead) {
  Metadata m = M(kPlain);
  EXPECT_TRUE(CheckCanRead(P(1, 2), m, "t").ok());
  EXPECT_TRUE(CheckCanRead(P(3, 7, Features{"timestampNtz", "vacuumProtocolCheck", "v2Checkpoint"},
                             Features{"timestampNtz", "vacuumProtocolCheck", "v2Checkpoint"}),
                           m, "t")
                  .ok());
  for (const char* f : {"variantType", "someFutureFeature"}) {
    Status st = CheckCanRead(P(3, 7, Features{f}, Features{f}), m, "/t");
    EXPECT_EQ(st.code(), StatusCode::kUnsupported) << f;
    EXPECT_EQ(st.message(),
              fmt::format("table /t uses reader feature {}, which data_loader cannot read yet", f));
  }
  EXPECT_EQ(CheckCanRead(P(4, 7, Features{}, Features{}), m, "t").code(), StatusCode::kUnsupported);
  // Column mapping in modes name and id is readable when every column has its physical name
  // and id; a column without them, or an unknown mode, is refused naming it.
  EXPECT_TRUE(CheckCanRead(P(2, 5), m, "t").ok());
  Schema mapped{
      {F("a", "long", true,
         {{"delta.columnMapping.id", 1}, {"delta.columnMapping.physicalName", "col-1"}})}};
  Protocol cm = P(3, 7, Features{"columnMapping"}, Features{"columnMapping"});
  for (const char* mode : {"name", "id"}) {
    EXPECT_TRUE(CheckCanRead(P(2, 5), M(mapped, {{"delta.columnMapping.mode", mode}}), "t").ok());
    EXPECT_TRUE(CheckCanRead(cm, M(mapped, {{"delta.columnMapping.mode", mode}}), "t").ok());
  }
  EXPECT_TRUE(CheckCanRead(cm, m, "t").ok());
  Status st = CheckCanRead(cm, M(kPlain, {{"delta.columnMapping.mode", "name"}}), "t");
  EXPECT_EQ(st.code(), StatusCode::kCorruptLog);
  EXPECT_NE(st.message().find("column a lacks delta.columnMapping.id"), std::string::npos)
      << st.message();
  st = CheckCanRead(cm, M(mapped, {{"delta.columnMapping.mode", "bogus"}}), "t");
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("bogus"), std::string::npos);
}

TEST(ProtocolFeaturesTest, CheckCanWriteLegacyVersions) {
  Metadata m = M(kPlain);
  for (int w = 1; w <= 6; ++w) EXPECT_TRUE(CheckCanWrite(P(1, w), m, "t").ok()) << w;
  EXPECT_TRUE(CheckCanWrite(P(1, 2), M(Schema{{F("a", "long", false)}}), "t").ok());

  // CHECK constraints, SQL invariants and generated columns are enforced by every write.
  EXPECT_TRUE(
      CheckCanWrite(P(1, 3), M(kPlain, {{"delta.constraints.positive", "a > 0"}}), "t").ok());
  // The change data feed is written (cdc files for rewrites, table/change_data.cpp).
  EXPECT_TRUE(
      CheckCanWrite(P(1, 4), M(kPlain, {{"delta.enableChangeDataFeed", "true"}}), "t").ok());
  EXPECT_TRUE(
      CheckCanWrite(P(1, 4), M(kPlain, {{"delta.enableChangeDataFeed", "false"}}), "t").ok());
  Schema generated{{F("g", "long", true, {{"delta.generationExpression", "a + 1"}})}};
  EXPECT_TRUE(CheckCanWrite(P(1, 4), M(generated), "t").ok());
  Schema mapped{
      {F("a", "long", true,
         {{"delta.columnMapping.id", 1}, {"delta.columnMapping.physicalName", "col-1"}})}};
  EXPECT_TRUE(CheckCanWrite(P(2, 5), M(mapped, {{"delta.columnMapping.mode", "id"}}), "t").ok());
  Schema identity{{F("id", "long", false, {{"delta.identity.start", 1}})}};
  EXPECT_TRUE(CheckCanWrite(P(1, 6), M(identity), "t").ok());
  Schema invariant{{F("x", "long", true, {{"delta.invariants", "{\"expression\":\"x>0\"}"}})}};
  EXPECT_TRUE(CheckCanWrite(P(1, 2), M(invariant), "t").ok());
}

TEST(ProtocolFeaturesTest, CheckCanWriteFeatureLists) {
  Metadata m = M(kNtzNotNull, {{"delta.appendOnly", "true"}});
  Protocol ok = P(3, 7, Features{"timestampNtz", "vacuumProtocolCheck"},
                  Features{"appendOnly", "invariants", "timestampNtz", "domainMetadata",
                           "vacuumProtocolCheck", "changeDataFeed", "checkConstraints"});
  EXPECT_TRUE(CheckCanWrite(ok, m, "t").ok());  // listed but inactive features are fine
  for (const char* f :
       {"icebergCompatV2", "allowColumnDefaults", "catalogManaged", "futureWriterFeature"}) {
    Status st = CheckCanWrite(P(1, 7, std::nullopt, Features{f}), m, "/t");
    EXPECT_EQ(st.code(), StatusCode::kUnsupported) << f;
    EXPECT_EQ(
        st.message(),
        fmt::format("table /t uses writer feature {}, which data_loader cannot write yet", f));
  }
  Metadata ict = M(kPlain, {{"delta.enableInCommitTimestamps", "true"}});
  Protocol ict_p = P(1, 7, std::nullopt, Features{"inCommitTimestamp"});
  EXPECT_TRUE(CheckCanWrite(ict_p, ict, "t").ok());  // Transaction writes the timestamps
  EXPECT_TRUE(CheckCanWrite(ict_p, M(kPlain), "t").ok());
  Protocol v2 = P(3, 7, Features{"v2Checkpoint"}, Features{"v2Checkpoint"});
  EXPECT_TRUE(CheckCanWrite(v2, M(kPlain), "t").ok());  // our checkpoints follow the v2 spec
  EXPECT_TRUE(UsesV2Checkpoints(v2));
  EXPECT_FALSE(UsesV2Checkpoints(ict_p));
  EXPECT_EQ(RequiredProtocol(kPlain, {{"delta.checkpointPolicy", "v2"}}), v2);
  // Reader features we cannot read also block writing.
  Protocol vt = P(3, 7, Features{"variantType"}, Features{"variantType"});
  EXPECT_EQ(CheckCanWrite(vt, M(kPlain), "t").code(), StatusCode::kUnsupported);
  EXPECT_EQ(CheckCanWrite(P(1, 8), M(kPlain), "t").code(), StatusCode::kUnsupported);
}

TEST(ProtocolFeaturesTest, TypeWidening) {
  Schema widened{{F(
      "a", "long", true,
      nlohmann::json::parse(R"({"delta.typeChanges":[{"fromType":"integer","toType":"long"}]})"))}};
  const StringMap on{{"delta.enableTypeWidening", "true"}};
  Protocol tw = P(3, 7, Features{"typeWidening"}, Features{"typeWidening"});
  Protocol preview = P(3, 7, Features{"typeWidening-preview"}, Features{"typeWidening-preview"});
  for (const Protocol& p : {tw, preview}) {
    EXPECT_TRUE(CheckCanRead(p, M(widened, on), "t").ok());
    EXPECT_TRUE(CheckCanWrite(p, M(widened, on), "t").ok());
    EXPECT_TRUE(CheckCanWrite(p, M(kPlain), "t").ok());
  }
  // A recorded change the protocol does not allow makes the table unreadable.
  Schema odd{{F("a", "string", true,
                nlohmann::json::parse(
                    R"({"delta.typeChanges":[{"fromType":"integer","toType":"string"}]})"))}};
  Status st = CheckCanRead(tw, M(odd, on), "/t");
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("integer -> string"), std::string::npos) << st.message();
  // The property, or a recorded change, needs the feature.
  EXPECT_EQ(RequiredProtocol(kPlain, on), tw);
  EXPECT_EQ(
      UpgradeProtocol(P(1, 2), widened, {}),
      P(3, 7, Features{"typeWidening"}, Features{"appendOnly", "invariants", "typeWidening"}));
  // Delta 3's preview feature serves: the stable one is not added beside it.
  EXPECT_EQ(UpgradeProtocol(preview, widened, on), preview);
}

}  // namespace
}  // namespace dl::delta
