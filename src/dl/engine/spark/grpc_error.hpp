// gRPC call failures as dl::Status (the Spark Connect client's error mapping).
#pragma once

#include <grpcpp/support/status.h>

#include "dl/common/status.hpp"
#include "dl/engine/spark/connection_string.hpp"

namespace dl::engine::spark {

/// A failed call's status: Spark's error class (from the ErrorInfo in the status details)
/// first in an Engine error; Io for a server that is unreachable or too slow (transient);
/// InvalidArgument for refused credentials. The remote's token never appears.
Status FromGrpc(const grpc::Status& status, const SparkRemote& remote);

}  // namespace dl::engine::spark
