// The delta.clustering domain: reading Spark's form, writing it, and checking config columns.
#include "dl/delta/clustering.hpp"

#include <gtest/gtest.h>

namespace dl::delta {
namespace {

Schema TestSchema() {
  auto s = ParseSchemaString(
      R"({"type":"struct","fields":[)"
      R"({"name":"id","type":"long","nullable":true,"metadata":{"delta.columnMapping.id":1,)"
      R"("delta.columnMapping.physicalName":"col-1"}},)"
      R"({"name":"flag","type":"boolean","nullable":true,"metadata":{}},)"
      R"({"name":"st","type":{"type":"struct","fields":[{"name":"x","type":"long","nullable":true,)"
      R"("metadata":{}}]},"nullable":true,"metadata":{}}]})");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

TEST(ClusteringTest, DomainRoundTripsByPhysicalName) {
  Schema schema = TestSchema();
  DomainMetadata d = ClusteringDomain({"id"}, schema);
  EXPECT_EQ(d.domain, "delta.clustering");
  EXPECT_EQ(d.configuration, R"({"clusteringColumns":[["col-1"]],"domainName":"delta.clustering"})");
  std::map<std::string, DomainMetadata> domains{{d.domain, d}};
  EXPECT_EQ(ClusteringColumns(domains, schema, "t").value(), std::vector<std::string>{"id"});
  // Spark's form without domainName reads the same; no domain: not clustered by anything.
  domains["delta.clustering"].configuration = R"({"clusteringColumns":[["col-1"]]})";
  EXPECT_EQ(ClusteringColumns(domains, schema, "t").value(), std::vector<std::string>{"id"});
  EXPECT_TRUE(ClusteringColumns({}, schema, "t").value().empty());
}

TEST(ClusteringTest, BadOrNestedDomainsAreRefused) {
  Schema schema = TestSchema();
  std::map<std::string, DomainMetadata> domains{
      {"delta.clustering", DomainMetadata{"delta.clustering", R"({"x":1})", false}}};
  EXPECT_EQ(ClusteringColumns(domains, schema, "t").status().code(), StatusCode::kCorruptLog);
  domains["delta.clustering"].configuration = R"({"clusteringColumns":[["gone"]]})";
  EXPECT_EQ(ClusteringColumns(domains, schema, "t").status().code(), StatusCode::kCorruptLog);
  domains["delta.clustering"].configuration = R"({"clusteringColumns":[["st","x"]]})";
  Status st = ClusteringColumns(domains, schema, "/t").status();
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("/t"), std::string::npos);
}

TEST(ClusteringTest, ConfigColumnsAreChecked) {
  Schema schema = TestSchema();
  EXPECT_TRUE(CheckClusteringColumns({"id"}, schema, {}, "clustering_columns", "t").ok());
  for (auto [cols, parts, want] :
       std::vector<std::tuple<std::vector<std::string>, std::vector<std::string>, std::string>>{
           {{"nope"}, {}, "'nope' is not"},
           {{"id", "id"}, {}, "listed twice"},
           {{"flag"}, {}, "boolean"},
           {{"st"}, {}, "struct"},
           {{"id"}, {"flag"}, "partitioned"}}) {
    Status st = CheckClusteringColumns(cols, schema, parts, "clustering_columns", "t");
    EXPECT_EQ(st.code(), StatusCode::kConfig) << want;
    EXPECT_NE(st.message().find("clustering_columns"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(want), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace dl::delta
