// Interned ACL lists. Most znodes share one of a handful of ACLs, so each node
// keeps a 32-bit reference into this table instead of its own copy (ZooKeeper's
// ReferenceCountedACLCache does the same for the same reason).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "corral/wire/records.h"

namespace corral::ensemble {

class AclTable {
 public:
  using Ref = uint32_t;

  // Returns the reference for `acl`, adding it or counting one more use.
  Ref acquire(const wire::AclList& acl);
  void release(Ref ref);
  const wire::AclList& get(Ref ref) const { return entries_[ref].acl; }
  std::size_t size() const { return index_.size(); }

 private:
  struct Entry {
    wire::AclList acl;
    uint64_t uses = 0;
  };
  struct Less {
    bool operator()(const wire::AclList& a, const wire::AclList& b) const;
  };
  std::vector<Entry> entries_;
  std::vector<Ref> free_;
  std::map<wire::AclList, Ref, Less> index_;
};

}  // namespace corral::ensemble
