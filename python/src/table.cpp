// data_loader.table's native half: `table scan` and `table changes` as an Arrow C stream (a PyCapsule per the Arrow
// PyCapsule interface), `table describe --json` and `table history --json`. No GIL is held
// while a table is opened or read.
#include <Python.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dl/cli/table_api.hpp"
#include "dl/engine/arrow_c.hpp"
#include "native.hpp"

namespace dl::python {
namespace {

// A missing table or file is FileNotFoundError, bad arguments ValueError, the rest
// RuntimeError; the message names the table.
[[noreturn]] void Raise(const Status& st) {
  PyObject* type = PyExc_RuntimeError;
  if (st.code() == StatusCode::kNotFound) type = PyExc_FileNotFoundError;
  if (st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kConfig) {
    type = PyExc_ValueError;
  }
  PyErr_SetString(type, st.message().c_str());
  throw nb::python_error();
}

// Opening and reading tables never holds the GIL: other Python threads keep running.
template <typename F>
auto WithoutGil(F&& f) {
  nb::gil_scoped_release release;
  return f();
}

// A scan not yet handed to a consumer. __arrow_c_stream__ gives the stream away once.
class ArrowStreamHandle {
 public:
  ArrowStreamHandle() = default;
  ArrowStreamHandle(const ArrowStreamHandle&) = delete;
  ArrowStreamHandle& operator=(const ArrowStreamHandle&) = delete;
  ~ArrowStreamHandle() {
    if (stream_.release) stream_.release(&stream_);
  }
  ArrowArrayStream* get() { return &stream_; }

  nb::capsule Export(nb::handle /*requested_schema*/) {
    if (!stream_.release) throw nb::value_error("this scan was already consumed");
    auto* moved = new ArrowArrayStream(stream_);
    stream_.release = nullptr;
    // The capsule releases a stream that no consumer took.
    return nb::capsule(moved, "arrow_array_stream", [](void* p) noexcept {
      auto* s = static_cast<ArrowArrayStream*>(p);
      if (s->release) s->release(s);
      delete s;
    });
  }

 private:
  ArrowArrayStream stream_{};
};

cli::TableRequest Request(std::string path, std::optional<int64_t> version,
                          std::optional<std::string> timestamp,
                          std::vector<std::string> storage_options) {
  cli::TableRequest r;
  r.path = std::move(path);
  r.version = version;
  r.timestamp = timestamp.value_or("");
  r.storage_options = std::move(storage_options);
  return r;
}

std::unique_ptr<ArrowStreamHandle> Scan(std::string path, std::optional<int64_t> version,
                                        std::optional<std::string> timestamp,
                                        std::optional<std::vector<std::string>> columns,
                                        std::optional<std::string> where,
                                        std::optional<int64_t> limit,
                                        std::vector<std::string> storage_options) {
  cli::TableRequest r =
      Request(std::move(path), version, std::move(timestamp), std::move(storage_options));
  r.columns = columns.value_or(std::vector<std::string>{});
  r.where = where.value_or("");
  r.limit = limit;
  auto handle = std::make_unique<ArrowStreamHandle>();
  Status st = WithoutGil([&] { return cli::ScanTableToArrow(r, handle->get()); });
  if (!st.ok()) Raise(st);
  return handle;
}

std::unique_ptr<ArrowStreamHandle> Changes(std::string path, int64_t from_version,
                                           std::optional<int64_t> to_version,
                                           std::vector<std::string> storage_options) {
  cli::TableRequest r =
      Request(std::move(path), std::nullopt, std::nullopt, std::move(storage_options));
  r.from_version = from_version;
  r.to_version = to_version;
  auto handle = std::make_unique<ArrowStreamHandle>();
  Status st = WithoutGil([&] { return cli::TableChangesToArrow(r, handle->get()); });
  if (!st.ok()) Raise(st);
  return handle;
}

std::string Describe(std::string path, std::optional<int64_t> version,
                     std::optional<std::string> timestamp,
                     std::vector<std::string> storage_options) {
  cli::TableRequest r =
      Request(std::move(path), version, std::move(timestamp), std::move(storage_options));
  auto j = WithoutGil([&] { return cli::DescribeTable(r); });
  if (!j.ok()) Raise(j.status());
  return j->dump();
}

std::string History(std::string path, std::optional<int64_t> limit,
                    std::vector<std::string> storage_options) {
  cli::TableRequest r =
      Request(std::move(path), std::nullopt, std::nullopt, std::move(storage_options));
  r.limit = limit;
  auto j = WithoutGil([&] { return cli::TableHistory(r); });
  if (!j.ok()) Raise(j.status());
  return j->dump();
}

}  // namespace

void BindTable(nb::module_& m) {
  nb::class_<ArrowStreamHandle>(m, "ArrowStreamHandle",
                                "A table scan as an Arrow C stream (Arrow PyCapsule interface).")
      .def("__arrow_c_stream__", &ArrowStreamHandle::Export,
           nb::arg("requested_schema") = nb::none(),
           "The scan as a PyCapsule 'arrow_array_stream'; can be taken once.");
  m.def("table_scan", &Scan, nb::arg("path"), nb::arg("version").none(),
        nb::arg("timestamp").none(), nb::arg("columns").none(), nb::arg("where").none(),
        nb::arg("limit").none(), nb::arg("storage_options"),
        "`table scan` of a Delta table as an ArrowStreamHandle.");
  m.def("table_changes", &Changes, nb::arg("path"), nb::arg("from_version"),
        nb::arg("to_version").none(), nb::arg("storage_options"),
        "`table changes` (the change data feed) as an ArrowStreamHandle.");
  m.def("table_describe", &Describe, nb::arg("path"), nb::arg("version").none(),
        nb::arg("timestamp").none(), nb::arg("storage_options"),
        "`table describe --json` as JSON text.");
  m.def("table_history", &History, nb::arg("path"), nb::arg("limit").none(),
        nb::arg("storage_options"), "`table history --json` as JSON text.");
}

}  // namespace dl::python
