// Path spellings: one canonical form per location, so a file never has two identities.
#pragma once

#include <string>
#include <string_view>

#include "dl/common/status.hpp"

namespace dl {

/// The directory whose presence makes a directory a Delta table. Storage-level code needs it
/// to leave tables alone (discovery, VACUUM, path checks).
inline constexpr char kDeltaLogDirName[] = "_delta_log";

/// True for "scheme://..." locations (object stores), which have no symlinks or cwd.
bool IsUri(std::string_view path);

/// The path with "." segments, repeated and trailing slashes removed and ".." folded, by text
/// alone. A URI keeps its "scheme://authority"; ".." never climbs above it or above "/".
/// Cheap (no I/O); for comparing paths that one listing produced.
std::string LexicallyNormal(std::string_view path);

/// The one spelling of a location that becomes a file's identity. URIs: LexicallyNormal (their
/// scheme aliases, s3a:// for s3://, are compared through LocationIdentity). Local
/// paths: symlinks and ".." resolved (realpath) for the part that exists, the rest lexically
/// normalised. A relative path stays relative to the working directory when it lies below it
/// (so "raw/x.csv", "./raw/x.csv" and "raw//x.csv" are all "raw/x.csv"), else it is absolute.
std::string CanonicalPath(const std::string& path);

/// The object key `path` names below `root` ("s3://bucket"), verbatim: object keys may hold
/// "//", "." and ".." segments and DuckDB addresses them as written, so nothing is folded and
/// a listed key reads back as itself. Only the slashes that end a directory go; "" for the
/// root itself. InvalidArgument for a path outside `root`, or one whose ".." segments climb
/// above it (read as a path it names something outside the bucket: refused, never mapped to
/// another key).
Result<std::string> ObjectKey(const std::string& path, const std::string& root);

/// InvalidArgument when a URI's ".." segments climb above its "scheme://authority" (read as a
/// path it names another bucket; LexicallyNormal would fold it onto this one). OK otherwise.
Status CheckUriStaysInRoot(const std::string& location);

/// True if `inner` is `outer` or lies below it. Both in the same (canonical) form.
bool IsSameOrInside(std::string_view inner, std::string_view outer);

/// True if one of the path's '/'-separated segments is exactly `name`.
bool HasSegment(std::string_view path, std::string_view name);

/// "s3" of "s3://bucket/key", "dbfs" of "dbfs:/x" (lower case); empty for plain paths.
std::string UriScheme(std::string_view location);

/// "bucket" of "s3://bucket/key", "container@account.dfs.core.windows.net" of an abfss URI;
/// empty when the location has no "//authority".
std::string UriAuthority(std::string_view location);

/// A location as this loader can use it. `file:` URIs become local paths; `dbfs:/x` becomes
/// `<dbfs_root>/x` where that directory exists (a Databricks driver's local view of DBFS); on a
/// Databricks driver (DATABRICKS_RUNTIME_VERSION set) `/mnt/<name>/...` does too, unless a
/// local /mnt/<name> exists.
/// A scheme with a storage backend (FindBackend) keeps its scheme and authority and is
/// LexicallyNormal ("s3://b//raw/" is "s3://b/raw"; refused when its ".." segments climb above
/// the bucket: CheckUriStaysInRoot); any other
/// `scheme:/...` location is InvalidArgument naming the scheme: a location read the wrong way
/// must be an error, never "0 files". Plain paths are returned unchanged.
Result<std::string> ResolveLocation(const std::string& location,
                                    const std::string& dbfs_root = "/dbfs");

}  // namespace dl
