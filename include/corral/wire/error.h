// ZooKeeper's result codes (KeeperException.Code) as a std::error_code
// category, shared by the codec, the server and the client.
//
// Codes -1..-99 are system errors (the connection or the server failed);
// -100 and below are API errors (the request was understood and refused).
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

namespace corral {

enum class Error : int32_t {
  ok = 0,
  systemError = -1,
  runtimeInconsistency = -2,  // a later op of a failed multi
  dataInconsistency = -3,
  connectionLoss = -4,
  marshallingError = -5,
  unimplemented = -6,
  operationTimeout = -7,
  badArguments = -8,
  unknownSession = -12,
  newConfigNoQuorum = -13,
  reconfigInProgress = -14,
  apiError = -100,
  noNode = -101,
  noAuth = -102,
  badVersion = -103,
  noChildrenForEphemerals = -108,
  nodeExists = -110,
  notEmpty = -111,
  sessionExpired = -112,
  invalidCallback = -113,
  invalidAcl = -114,
  authFailed = -115,
  sessionMoved = -118,
  notReadOnly = -119,
  ephemeralOnLocalSession = -120,
  noWatcher = -121,
  requestTimeout = -122,
  reconfigDisabled = -123,
  sessionClosedRequireSaslAuth = -124,
  quotaExceeded = -125,
  throttledOp = -127,
};

const std::error_category& zookeeper_category() noexcept;

inline std::error_code make_error_code(Error e) noexcept { return {static_cast<int>(e), zookeeper_category()}; }

// ZooKeeper's upper-case name of a code ("NONODE"), or "UNKNOWN(<n>)".
std::string_view error_name(Error e) noexcept;

}  // namespace corral

template <>
struct std::is_error_code_enum<corral::Error> : std::true_type {};
