#include "ensemble/core/acl_table.h"

#include <algorithm>
#include <cassert>
#include <tuple>

namespace corral::ensemble {

bool AclTable::Less::operator()(const wire::AclList& a, const wire::AclList& b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return std::tie(x.perms, x.id.scheme, x.id.id) < std::tie(y.perms, y.id.scheme, y.id.id);
  });
}

AclTable::Ref AclTable::acquire(const wire::AclList& acl) {
  if (auto it = index_.find(acl); it != index_.end()) {
    ++entries_[it->second].uses;
    return it->second;
  }
  Ref ref;
  if (!free_.empty()) {
    ref = free_.back();
    free_.pop_back();
    entries_[ref] = Entry{acl, 1};
  } else {
    ref = static_cast<Ref>(entries_.size());
    entries_.push_back(Entry{acl, 1});
  }
  index_.emplace(acl, ref);
  return ref;
}

void AclTable::release(Ref ref) {
  auto& e = entries_[ref];
  assert(e.uses > 0);
  if (--e.uses == 0) {
    index_.erase(e.acl);
    e.acl.clear();
    free_.push_back(ref);
  }
}

}  // namespace corral::ensemble
