// ZooKeeper's digest scheme, computed independently of the server's code:
// the id of "user:password" is "user:" + base64(sha1("user:password")).
#pragma once

#include <string>
#include <string_view>

namespace corral::test {

std::string digest_id(std::string_view user, std::string_view password);

}  // namespace corral::test
