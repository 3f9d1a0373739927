// Access control as ZooKeeper decides it: the world, auth, digest and ip
// schemes, the super identity, and the fix-up of ACLs a client asks for.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corral/wire/records.h"

namespace corral::ensemble {

// The identities a connection has proven: ("ip", addr) from the socket,
// ("digest", "user:hash") per successful addauth, ("super", "") for the
// superDigest's owner.
using AuthIds = std::vector<wire::Id>;

// ZooKeeper's digest of "user:password": "user:" + base64(sha1("user:password")).
std::string digest_of(std::string_view user_password);

// True if `ids` may do `perm` on a node with `acl` (checkACL). An empty ACL
// allows everything, as upstream.
bool acl_permits(const wire::AclList& acl, int32_t perm, const AuthIds& ids);

// The ACL to store for a create or setACL (fixupACL): duplicates dropped,
// "auth" expanded into the caller's authenticated ids, every entry validated.
// Empty when ZooKeeper would answer INVALIDACL.
std::optional<wire::AclList> fixup_acl(const wire::AclList& requested, const AuthIds& ids);

// Whether `client_ip` matches an ip ACL expression "addr" or "addr/bits".
bool ip_matches(std::string_view client_ip, std::string_view expression);

// getACL without ADMIN permission shows digest hashes as "user:x".
wire::AclList redact_digests(const wire::AclList& acl);

}  // namespace corral::ensemble
