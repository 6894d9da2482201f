// S3 XML answers, read and written with pugixml.
#include "dl/storage/s3_xml.hpp"

#include <cctype>
#include <ctime>
#include <iomanip>
#include <pugixml.hpp>
#include <sstream>

#include "dl/common/http_client.hpp"

namespace dl::s3 {
namespace {

int64_t ToInt64(const char* text) {
  try {
    return std::stoll(text);
  } catch (...) {
    return 0;
  }
}

}  // namespace

Result<ListPage> ParseListPage(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) {
    return Status::Io("S3 listing: the answer is not XML");
  }
  pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) return Status::Io("S3 listing: the answer is not a ListBucketResult");
  ListPage page;
  page.truncated = std::string(root.child_value("IsTruncated")) == "true";
  page.next_continuation_token = root.child_value("NextContinuationToken");
  for (pugi::xml_node c : root.children("Contents")) {
    ListedObject o;
    o.key = c.child_value("Key");
    o.size = ToInt64(c.child_value("Size"));
    o.modification_time_ms = ParseIso8601Ms(c.child_value("LastModified"));
    o.etag = Unquote(c.child_value("ETag"));
    page.objects.push_back(std::move(o));
  }
  for (pugi::xml_node p : root.children("CommonPrefixes")) {
    page.common_prefixes.emplace_back(p.child_value("Prefix"));
  }
  if (page.truncated && page.next_continuation_token.empty()) {
    return Status::Io("S3 listing: a truncated page without a continuation token");
  }
  return page;
}

ErrorInfo ParseError(const std::string& body) {
  pugi::xml_document doc;
  ErrorInfo out;
  if (!doc.load_buffer(body.data(), body.size())) return out;
  pugi::xml_node err = doc.child("Error");
  out.code = http::ServerErrorCode(err.child_value("Code"));
  out.message = http::ServerErrorMessage(err.child_value("Message"));
  return out;
}

std::string DeleteObjectsBody(const std::vector<std::string>& keys) {
  pugi::xml_document doc;
  pugi::xml_node del = doc.append_child("Delete");
  del.append_child("Quiet").text().set("true");
  for (const auto& key : keys) {
    del.append_child("Object").append_child("Key").text().set(key.c_str());
  }
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

Result<std::vector<DeleteError>> ParseDeleteErrors(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) {
    return Status::Io("S3 DeleteObjects: the answer is not XML");
  }
  pugi::xml_node root = doc.child("DeleteResult");
  if (!root) return Status::Io("S3 DeleteObjects: the answer is not a DeleteResult");
  std::vector<DeleteError> out;
  for (pugi::xml_node e : root.children("Error")) {
    out.push_back({e.child_value("Key"), http::ServerErrorCode(e.child_value("Code")),
                   http::ServerErrorMessage(e.child_value("Message"))});
  }
  return out;
}

int64_t ParseIso8601Ms(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return 0;
  if (in.peek() == '.') {
    in.get();
    std::string frac;
    while (std::isdigit(in.peek())) frac.push_back(static_cast<char>(in.get()));
    frac = (frac + "000").substr(0, 3);
    ms = std::stoi(frac);
  }
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

std::string Unquote(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

}  // namespace dl::s3
