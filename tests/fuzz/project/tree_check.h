// DataTree invariants that hold for any sequence of inputs, checked through
// the public API only, and a comparable image of a whole tree.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ensemble/core/data_tree.h"
#include "fuzz_check.h"

namespace corral::fuzz {

struct NodeView {
  std::string data;
  wire::AclList acl;
  wire::Stat stat;       // as clients see it
  int64_t owner = 0;     // as stored (containers, TTL nodes)
  int32_t cversion = 0;  // as stored
  friend bool operator==(const NodeView&, const NodeView&) = default;
};
using TreeImage = std::map<std::string, NodeView>;

inline std::string child_of(const std::string& parent, const std::string& name) {
  return parent == "/" ? "/" + name : parent + "/" + name;
}

inline bool builtin_node(std::string_view path) {
  return path == "/" || path == "/zookeeper" || path == "/zookeeper/quota" || path == "/zookeeper/config";
}

// Walks the tree from the root through children() and checks that every view
// of it agrees: lookup and path_of, numChildren and the children list,
// dataLength and the data, node_count, descendant_count, and the owner indexes
// (ephemerals, containers, TTL nodes). Returns the image of the tree.
inline TreeImage check_tree(const ensemble::DataTree& tree, const char* what) {
  using ensemble::NodeId;
  TreeImage image;
  std::set<NodeId> live;
  std::size_t ephemeral_nodes = 0, container_nodes = 0, ttl_nodes = 0;
  uint64_t data_size = 0;  // as approximate_data_size counts: path and data, data only for the built-in nodes
  const NodeId root = tree.lookup("/");
  FUZZ_CHECK(root != ensemble::no_node, "%s: no root", what);
  std::vector<std::pair<NodeId, std::string>> stack{{root, "/"}};
  while (!stack.empty()) {
    const auto [id, path] = stack.back();
    stack.pop_back();
    FUZZ_CHECK(live.insert(id).second, "%s: node %s reached twice (a cycle or a shared child)", what, path.c_str());
    FUZZ_CHECK(live.size() <= tree.node_count(), "%s: more nodes reachable than node_count() %zu", what,
               tree.node_count());
    FUZZ_CHECK(tree.lookup(path) == id, "%s: lookup(%s) does not find the node", what, path.c_str());
    FUZZ_CHECK(tree.path_of(id) == path, "%s: path_of gives %s for %s", what, tree.path_of(id).c_str(), path.c_str());
    const std::vector<std::string> children = tree.children(id);
    const wire::Stat st = tree.stat(id);
    FUZZ_CHECK(tree.num_children(id) == children.size(), "%s: %s: num_children %u but %zu children", what, path.c_str(),
               tree.num_children(id), children.size());
    FUZZ_CHECK(st.numChildren == static_cast<int32_t>(children.size()), "%s: %s: Stat.numChildren %d but %zu children",
               what, path.c_str(), st.numChildren, children.size());
    const std::string_view data = tree.data(id);
    FUZZ_CHECK(st.dataLength == static_cast<int32_t>(data.size()), "%s: %s: Stat.dataLength %d but %zu data bytes",
               what, path.c_str(), st.dataLength, data.size());
    data_size += data.size() + (builtin_node(path) ? 0 : path.size());
    const int64_t owner = tree.ephemeral_owner(id);
    if (owner == wire::container_owner) {
      ++container_nodes;
      FUZZ_CHECK(tree.containers().count(id) == 1, "%s: container %s not indexed", what, path.c_str());
    } else if (wire::is_ttl_owner(owner)) {
      ++ttl_nodes;
      FUZZ_CHECK(tree.ttl_nodes().count(id) == 1, "%s: TTL node %s not indexed", what, path.c_str());
    } else if (owner != 0) {
      ++ephemeral_nodes;
      auto it = tree.ephemerals().find(owner);
      FUZZ_CHECK(it != tree.ephemerals().end() && it->second.count(id) == 1, "%s: ephemeral %s not indexed", what,
                 path.c_str());
    }
    std::set<std::string_view> names;
    for (const auto& name : children) {
      FUZZ_CHECK(!name.empty() && name.find('/') == std::string::npos, "%s: %s has a child named '%s'", what,
                 path.c_str(), name.c_str());
      FUZZ_CHECK(names.insert(name).second, "%s: %s has two children named %s", what, path.c_str(), name.c_str());
      const std::string cp = child_of(path, name);
      const NodeId c = tree.lookup(cp);
      FUZZ_CHECK(c != ensemble::no_node, "%s: child %s of %s not found by lookup", what, cp.c_str(), path.c_str());
      stack.emplace_back(c, cp);
    }
    image.emplace(path, NodeView{std::string(data), tree.acl(id), st, owner, tree.cversion(id)});
  }
  FUZZ_CHECK(live.size() == tree.node_count(), "%s: %zu nodes reachable, node_count() says %zu", what, live.size(),
             tree.node_count());
  FUZZ_CHECK(tree.descendant_count(root) == live.size() - 1, "%s: descendant_count(/) %llu, %zu nodes", what,
             static_cast<unsigned long long>(tree.descendant_count(root)), live.size());

  FUZZ_CHECK(tree.approximate_data_size() == data_size, "%s: approximate_data_size() %llu, the nodes hold %llu", what,
             static_cast<unsigned long long>(tree.approximate_data_size()), static_cast<unsigned long long>(data_size));

  std::size_t indexed = 0;
  for (const auto& [owner, ids] : tree.ephemerals()) {
    FUZZ_CHECK(!ids.empty(), "%s: empty ephemeral set for owner %lld", what, static_cast<long long>(owner));
    for (NodeId id : ids) {
      FUZZ_CHECK(live.count(id) == 1, "%s: ephemeral index of %lld holds a dead node", what,
                 static_cast<long long>(owner));
      FUZZ_CHECK(tree.ephemeral_owner(id) == owner, "%s: ephemeral index of %lld holds %s owned by %lld", what,
                 static_cast<long long>(owner), tree.path_of(id).c_str(),
                 static_cast<long long>(tree.ephemeral_owner(id)));
      ++indexed;
    }
  }
  FUZZ_CHECK(indexed == ephemeral_nodes && indexed == tree.ephemeral_count(),
             "%s: %zu ephemeral nodes, %zu indexed, ephemeral_count() %zu", what, ephemeral_nodes, indexed,
             tree.ephemeral_count());
  for (NodeId id : tree.containers()) FUZZ_CHECK(live.count(id) == 1, "%s: container index holds a dead node", what);
  for (NodeId id : tree.ttl_nodes()) FUZZ_CHECK(live.count(id) == 1, "%s: TTL index holds a dead node", what);
  FUZZ_CHECK(tree.containers().size() == container_nodes && tree.ttl_nodes().size() == ttl_nodes,
             "%s: %zu containers / %zu TTL nodes, indexes hold %zu / %zu", what, container_nodes, ttl_nodes,
             tree.containers().size(), tree.ttl_nodes().size());
  return image;
}

// The first difference between two images, or "" when they are equal.
inline std::string diff_images(const TreeImage& a, const TreeImage& b) {
  for (const auto& [path, n] : a) {
    auto it = b.find(path);
    if (it == b.end()) return path + " only in the first tree";
    if (!(it->second == n)) {
      const auto& s = n.stat;
      const auto& t = it->second.stat;
      char buf[512];
      std::snprintf(buf, sizeof buf,
                    " differs: czxid %lld/%lld mzxid %lld/%lld pzxid %lld/%lld ctime %lld/%lld mtime %lld/%lld "
                    "version %d/%d cversion %d/%d aversion %d/%d owner %lld/%lld data %zu/%zu bytes, acl %zu/%zu "
                    "stored owner %lld/%lld",
                    (long long)s.czxid, (long long)t.czxid, (long long)s.mzxid, (long long)t.mzxid, (long long)s.pzxid,
                    (long long)t.pzxid, (long long)s.ctime, (long long)t.ctime, (long long)s.mtime, (long long)t.mtime,
                    s.version, t.version, s.cversion, t.cversion, s.aversion, t.aversion, (long long)s.ephemeralOwner,
                    (long long)t.ephemeralOwner, n.data.size(), it->second.data.size(), n.acl.size(),
                    it->second.acl.size(), (long long)n.owner, (long long)it->second.owner);
      return path + buf;
    }
  }
  for (const auto& [path, n] : b) {
    if (a.find(path) == a.end()) return path + " only in the second tree";
  }
  return {};
}

}  // namespace corral::fuzz
