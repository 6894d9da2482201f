// gRPC call failures as dl::Status (the Spark Connect client's error mapping).
#pragma once

#include <grpcpp/support/status.h>

#include "dl/common/status.hpp"
#include "dl/engine/spark/connection_string.hpp"

namespace dl::engine::spark {

/// A failed call's status: Spark's error class (from the ErrorInfo in the status details;
/// from the start of the message where the server, Spark 3.5, sends none there) first in an Engine
/// error's message and in its detail().error_class (what callers check); Io for a server that is
/// unreachable or too slow (transient); InvalidArgument for refused credentials. The remote's token
/// never appears. A session the server lost (error class INVALID_HANDLE.SESSION_*: it restarted, or
/// dropped the session) is Io too: the operation may succeed again in a new session. A local
/// checkpoint's block lost with its executor (CHECKPOINT_RDD_BLOCK_ID_NOT_FOUND) is an Engine error
/// whose detail().cause is kTransient: done again, the operation checkpoints anew.
Status FromGrpc(const grpc::Status& status, const SparkRemote& remote);

/// Whether after this failure the server may no longer hold our session (it was unreachable,
/// or said it lost the session): the client starts a new session before its next call, and
/// its caller redoes the whole operation (session confs included).
bool SessionMayBeLost(const grpc::Status& status);

}  // namespace dl::engine::spark
