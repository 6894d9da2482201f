# The Spark engine's building blocks: the Spark Connect protocol's C++ and gRPC code, generated
# here from the .proto files scripts/fetch_spark_connect.sh unpacks, and nanoarrow's C sources
# (Arrow IPC decoding), from the same script. gRPC and protobuf come from Debian
# (libgrpc++-dev, protobuf-compiler-grpc).
enable_language(C)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

set(SPARK_CONNECT_PROTO_DIR "${CMAKE_CURRENT_SOURCE_DIR}/third_party/spark_connect/proto")
set(NANOARROW_DIR "${CMAKE_CURRENT_SOURCE_DIR}/third_party/nanoarrow")
if(NOT EXISTS "${SPARK_CONNECT_PROTO_DIR}/spark/connect/base.proto" OR
   NOT EXISTS "${NANOARROW_DIR}/src/nanoarrow/nanoarrow.h")
  message(FATAL_ERROR "The Spark Connect protos or nanoarrow are missing under third_party/: "
                      "run scripts/fetch_spark_connect.sh (scripts/install_deps.sh runs it).")
endif()

# --- Spark Connect protocol: one static library of the generated code ---------------------
file(GLOB spark_protos RELATIVE "${SPARK_CONNECT_PROTO_DIR}" CONFIGURE_DEPENDS
     "${SPARK_CONNECT_PROTO_DIR}/spark/connect/*.proto")
list(APPEND spark_protos google/rpc/status.proto google/rpc/error_details.proto)
set(spark_gen_dir "${CMAKE_CURRENT_BINARY_DIR}/spark_connect_gen")
set(spark_gen_srcs)
foreach(proto ${spark_protos})
  string(REGEX REPLACE "\\.proto$" "" stem "${proto}")
  set(outs "${spark_gen_dir}/${stem}.pb.cc" "${spark_gen_dir}/${stem}.pb.h")
  set(grpc_args)
  if(proto STREQUAL "spark/connect/base.proto")  # the one file with a service
    list(APPEND outs "${spark_gen_dir}/${stem}.grpc.pb.cc" "${spark_gen_dir}/${stem}.grpc.pb.h")
    set(grpc_args --grpc_out=${spark_gen_dir} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN})
  endif()
  add_custom_command(
    OUTPUT ${outs}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${spark_gen_dir}
    COMMAND protobuf::protoc -I${SPARK_CONNECT_PROTO_DIR} -I${Protobuf_INCLUDE_DIRS}
            --cpp_out=${spark_gen_dir} ${grpc_args} ${proto}
    DEPENDS "${SPARK_CONNECT_PROTO_DIR}/${proto}"
    COMMENT "protoc ${proto}" VERBATIM)
  list(FILTER outs INCLUDE REGEX "\\.cc$")
  list(APPEND spark_gen_srcs ${outs})
endforeach()
add_library(dl_spark_proto STATIC ${spark_gen_srcs})
# Generated code: compiled as it comes, with its warnings silenced; -O1 without debug info
# halves its compile time (these messages are small, their speed does not matter).
target_compile_options(dl_spark_proto PRIVATE -w -O1 -g0)
target_include_directories(dl_spark_proto SYSTEM PUBLIC "${spark_gen_dir}")
target_link_libraries(dl_spark_proto PUBLIC gRPC::grpc++ protobuf::libprotobuf)

# --- nanoarrow: the common C library, IPC and the flatcc runtime it reads messages with ----
set(NANOARROW_VERSION_MAJOR 0)
set(NANOARROW_VERSION_MINOR 9)
set(NANOARROW_VERSION_PATCH 0)
set(NANOARROW_VERSION 0.9.0)
# Our own symbol prefix: no clash with another nanoarrow in the same process (pyarrow's, say).
set(NANOARROW_NAMESPACE_DEFINE "#define NANOARROW_NAMESPACE DlNanoarrow")
set(nanoarrow_gen "${CMAKE_CURRENT_BINARY_DIR}/nanoarrow_gen")
configure_file("${NANOARROW_DIR}/src/nanoarrow/nanoarrow_config.h.in"
               "${nanoarrow_gen}/nanoarrow/nanoarrow_config.h" @ONLY)
set(na "${NANOARROW_DIR}/src/nanoarrow")
set(fc "${NANOARROW_DIR}/flatcc/src/runtime")
add_library(dl_nanoarrow STATIC
  ${na}/common/array.c ${na}/common/array_stream.c ${na}/common/schema.c ${na}/common/utils.c
  ${na}/ipc/codecs.c ${na}/ipc/decoder.c ${na}/ipc/encoder.c ${na}/ipc/reader.c
  ${na}/ipc/writer.c
  ${fc}/builder.c ${fc}/emitter.c ${fc}/refmap.c ${fc}/verifier.c)
target_compile_options(dl_nanoarrow PRIVATE -w)
target_include_directories(dl_nanoarrow SYSTEM PUBLIC "${nanoarrow_gen}" "${NANOARROW_DIR}/src"
                           "${NANOARROW_DIR}/flatcc/include")
set_target_properties(dl_nanoarrow PROPERTIES C_STANDARD 99)
