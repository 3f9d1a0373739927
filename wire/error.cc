#include "corral/wire/error.h"

#include <string>

namespace corral {

std::string_view error_name(Error e) noexcept {
  switch (e) {
    case Error::ok: return "OK";
    case Error::systemError: return "SYSTEMERROR";
    case Error::runtimeInconsistency: return "RUNTIMEINCONSISTENCY";
    case Error::dataInconsistency: return "DATAINCONSISTENCY";
    case Error::connectionLoss: return "CONNECTIONLOSS";
    case Error::marshallingError: return "MARSHALLINGERROR";
    case Error::unimplemented: return "UNIMPLEMENTED";
    case Error::operationTimeout: return "OPERATIONTIMEOUT";
    case Error::badArguments: return "BADARGUMENTS";
    case Error::unknownSession: return "UNKNOWNSESSION";
    case Error::newConfigNoQuorum: return "NEWCONFIGNOQUORUM";
    case Error::reconfigInProgress: return "RECONFIGINPROGRESS";
    case Error::apiError: return "APIERROR";
    case Error::noNode: return "NONODE";
    case Error::noAuth: return "NOAUTH";
    case Error::badVersion: return "BADVERSION";
    case Error::noChildrenForEphemerals: return "NOCHILDRENFOREPHEMERALS";
    case Error::nodeExists: return "NODEEXISTS";
    case Error::notEmpty: return "NOTEMPTY";
    case Error::sessionExpired: return "SESSIONEXPIRED";
    case Error::invalidCallback: return "INVALIDCALLBACK";
    case Error::invalidAcl: return "INVALIDACL";
    case Error::authFailed: return "AUTHFAILED";
    case Error::sessionMoved: return "SESSIONMOVED";
    case Error::notReadOnly: return "NOTREADONLY";
    case Error::ephemeralOnLocalSession: return "EPHEMERALONLOCALSESSION";
    case Error::noWatcher: return "NOWATCHER";
    case Error::requestTimeout: return "REQUESTTIMEOUT";
    case Error::reconfigDisabled: return "RECONFIGDISABLED";
    case Error::sessionClosedRequireSaslAuth: return "SESSIONCLOSEDREQUIRESASLAUTH";
    case Error::quotaExceeded: return "QUOTAEXCEEDED";
    case Error::throttledOp: return "THROTTLEDOP";
  }
  return "UNKNOWN";
}

namespace {

class ZooKeeperCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "zookeeper"; }
  std::string message(int code) const override {
    const auto name = error_name(static_cast<Error>(code));
    if (name == "UNKNOWN") return "UNKNOWN(" + std::to_string(code) + ")";
    return std::string(name);
  }
};

}  // namespace

const std::error_category& zookeeper_category() noexcept {
  static const ZooKeeperCategory category;
  return category;
}

}  // namespace corral
