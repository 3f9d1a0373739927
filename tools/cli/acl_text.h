// zkCli's text forms: ACLs as "scheme:id:perms[,scheme:id:perms...]" with perms
// from "cdrwa", and Stat as its "name = value" block.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "corral/wire/records.h"

namespace corral::cli {

std::optional<wire::AclList> parse_acl(std::string_view text, std::string& error);
std::string format_acl(const wire::AclList& acl);
std::string format_perms(int32_t perms);
std::string format_stat(const wire::Stat& stat);

}  // namespace corral::cli
