// The pieces of the batch's file scans (spark_source.cpp) that the batch view's columns
// (spark_columns.cpp) build on: Spark Connect expression builders, the source view's
// columns, each row's file. Private to those two files.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dl/engine/spark/spark_plan.hpp"

namespace dl::engine::spark {

inline constexpr const char* kUriColumn = "__dl_file_uri";
inline constexpr const char* kSourceView = "__dl_source";
inline constexpr const char* kSourceRowColumn = "__dl_source_row";  // the source view's row order

pb::Expression Attr(const std::string& name);
pb::Expression Str(const std::string& value);
pb::Expression Int(int32_t value);
pb::Expression Fn(const std::string& name, std::vector<pb::Expression> args);
pb::Expression As(pb::Expression expr, const std::string& name);
pb::Expression SqlExpr(const std::string& sql);
pb::Relation Project(pb::Relation input, std::vector<pb::Expression> exprs);

/// Each row's file as Spark spells it: _metadata.file_path on a file scan, kUriColumn over
/// the source view.
pb::Expression FilePath(const ReadFiles& files);

/// Each row's position in its file, evaluated on the file scan.
pb::Expression RowOrder(const AppendOperation& op);

/// The columns the source view adds to the files'.
std::vector<const char*> SourceViewColumns(const ReadFiles& files);

/// The files with `exprs`: over the source view when there is one, else on the file scans.
pb::Relation Scanned(const AppendOperation& op, const ReadFiles& files,
                     const std::vector<pb::Expression>& exprs);

/// value(i) for each row's file (op.paths[i]), by Spark's spellings from a count when
/// files.path_of_uri has them (no rows: `fallback`), else in the scan itself.
pb::Expression ByFile(const AppendOperation& op, const ReadFiles& files,
                      const std::function<pb::Expression(size_t)>& value,
                      pb::Expression fallback);

}  // namespace dl::engine::spark
