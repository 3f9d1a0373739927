#include "ensemble/core/data_tree.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "ensemble/core/path.h"
#include "txn.pb.h"

namespace corral::ensemble {

namespace {
constexpr std::size_t chunk_bits = 14;
constexpr std::size_t chunk_size = std::size_t{1} << chunk_bits;

// A node's name and data share one heap block: [u32 data size][u32 name size][name][data].
// (A name can be as long as a frame allows, so its size needs 32 bits too.)
constexpr std::size_t blob_header = 8;

// Java int arithmetic: wraps instead of overflowing.
int32_t wrapping_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
}  // namespace

struct DataTree::Node {
  std::unique_ptr<char[]> blob;
  NodeId parent = no_node;
  NodeId first_child = no_node;
  NodeId next_sibling = no_node;
  NodeId prev_sibling = no_node;
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t pzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int64_t ephemeral_owner = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  uint32_t num_children = 0;
  AclTable::Ref acl = 0;

  uint32_t data_size() const {
    uint32_t n;
    std::memcpy(&n, blob.get(), 4);
    return n;
  }
  uint32_t name_size() const {
    uint32_t n;
    std::memcpy(&n, blob.get() + 4, 4);
    return n;
  }
  std::string_view name() const { return {blob.get() + blob_header, name_size()}; }
  std::string_view data() const { return {blob.get() + blob_header + name_size(), data_size()}; }
  void assign(std::string_view name_part, std::string_view data_part) {
    auto b = std::make_unique_for_overwrite<char[]>(blob_header + name_part.size() + data_part.size());
    const auto d = static_cast<uint32_t>(data_part.size());
    const auto n = static_cast<uint32_t>(name_part.size());
    std::memcpy(b.get(), &d, 4);
    std::memcpy(b.get() + 4, &n, 4);
    std::memcpy(b.get() + blob_header, name_part.data(), name_part.size());
    std::memcpy(b.get() + blob_header + name_part.size(), data_part.data(), data_part.size());
    blob = std::move(b);
  }
};

static_assert(sizeof(std::unique_ptr<char[]>) == 8);

std::size_t DataTree::node_record_size() { return sizeof(Node); }

// Open addressing with linear probing and backward-shift deletion, keyed by
// (parent id, child name). Each slot keeps 32 bits of the hash so most probes
// that miss never touch the node itself.
class DataTree::Index {
 public:
  explicit Index(const DataTree& tree) : tree_(tree) { slots_.assign(1024, Slot{}); }

  NodeId find(NodeId parent, std::string_view name) const {
    const uint64_t h = hash(parent, name);
    const auto tag = static_cast<uint32_t>(h);
    for (std::size_t i = h & mask(); slots_[i].id != no_node; i = (i + 1) & mask()) {
      if (slots_[i].tag != tag) continue;
      const Node& n = tree_.node(slots_[i].id);
      if (n.parent == parent && n.name() == name) return slots_[i].id;
    }
    return no_node;
  }

  void insert(NodeId id) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    place(id);
    ++size_;
  }

  void erase(NodeId id) {
    const Node& n = tree_.node(id);
    std::size_t i = hash(n.parent, n.name()) & mask();
    while (slots_[i].id != id) {
      assert(slots_[i].id != no_node);
      i = (i + 1) & mask();
    }
    // Backward shift: pull later entries of the probe run into the hole.
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask(); slots_[j].id != no_node; j = (j + 1) & mask()) {
      const std::size_t home = home_of(slots_[j]);
      const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    --size_;
  }

 private:
  struct Slot {
    uint32_t tag = 0;
    NodeId id = no_node;
  };

  static uint64_t hash(NodeId parent, std::string_view name) {
    // FNV-1a over the name, seeded with the parent, then a 64-bit finalizer.
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t{parent} * 0x9e3779b97f4a7c15ull);
    for (const char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
  }

  std::size_t mask() const { return slots_.size() - 1; }

  std::size_t home_of(const Slot& s) const {
    const Node& n = tree_.node(s.id);
    return hash(n.parent, n.name()) & mask();
  }

  void place(NodeId id) {
    const Node& n = tree_.node(id);
    const uint64_t h = hash(n.parent, n.name());
    std::size_t i = h & mask();
    while (slots_[i].id != no_node) i = (i + 1) & mask();
    slots_[i] = Slot{static_cast<uint32_t>(h), id};
  }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2, Slot{});
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.id != no_node) place(s.id);
    }
  }

  const DataTree& tree_;
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

DataTree::DataTree() { reset(); }

void DataTree::reset() {
  chunks_.clear();
  free_ids_.clear();
  next_id_ = 0;
  live_nodes_ = 0;
  index_ = std::make_unique<Index>(*this);
  acls_ = AclTable{};
  last_zxid_ = 0;
  data_bytes_ = 0;
  ephemerals_.clear();
  containers_.clear();
  ttl_nodes_.clear();
  const wire::AclList open{{wire::perms::all, {"world", "anyone"}}};
  const wire::AclList read_only{{wire::perms::read, {"world", "anyone"}}};
  const NodeId root = allocate(no_node, "", "");
  node(root).acl = acls_.acquire(open);
  // The nodes every ZooKeeper server has: /zookeeper, its quota and config children.
  const NodeId zk = allocate(root, "zookeeper", "");
  node(zk).acl = acls_.acquire(open);
  link_child(root, zk);
  const NodeId quota = allocate(zk, "quota", "");
  node(quota).acl = acls_.acquire(open);
  link_child(zk, quota);
  const NodeId config = allocate(zk, "config", "");
  node(config).acl = acls_.acquire(read_only);
  // ZooKeeper sets this ACL with DataTree.setACL(..., version -1), which
  // leaves the node's aversion at -1.
  node(config).aversion = -1;
  link_child(zk, config);
}

DataTree::~DataTree() = default;

DataTree::Node& DataTree::node(NodeId id) { return chunks_[id >> chunk_bits][id & (chunk_size - 1)]; }
const DataTree::Node& DataTree::node(NodeId id) const { return chunks_[id >> chunk_bits][id & (chunk_size - 1)]; }

NodeId DataTree::allocate(NodeId parent, std::string_view name, std::string_view data) {
  NodeId id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = next_id_++;
    if ((id >> chunk_bits) >= chunks_.size()) chunks_.push_back(std::make_unique<Node[]>(chunk_size));
  }
  Node& n = node(id);
  n = Node{};
  n.parent = parent;
  n.assign(name, data);
  ++live_nodes_;
  if (parent != no_node) index_->insert(id);
  return id;
}

void DataTree::release(NodeId id) {
  index_->erase(id);
  acls_.release(node(id).acl);
  node(id) = Node{};
  free_ids_.push_back(id);
  --live_nodes_;
}

void DataTree::link_child(NodeId parent, NodeId id) {
  Node& p = node(parent);
  Node& c = node(id);
  c.next_sibling = p.first_child;
  c.prev_sibling = no_node;
  if (p.first_child != no_node) node(p.first_child).prev_sibling = id;
  p.first_child = id;
  ++p.num_children;
}

void DataTree::unlink_child(NodeId id) {
  Node& c = node(id);
  Node& p = node(c.parent);
  if (c.prev_sibling != no_node) {
    node(c.prev_sibling).next_sibling = c.next_sibling;
  } else {
    p.first_child = c.next_sibling;
  }
  if (c.next_sibling != no_node) node(c.next_sibling).prev_sibling = c.prev_sibling;
  --p.num_children;
}

void DataTree::index_owner(NodeId id, int64_t owner) {
  if (owner == 0) return;
  if (owner == wire::container_owner) {
    containers_.insert(id);
  } else if (wire::is_ttl_owner(owner)) {
    ttl_nodes_.insert(id);
  } else {
    ephemerals_[owner].insert(id);
  }
}

void DataTree::unindex_owner(NodeId id, int64_t owner) {
  if (owner == 0) return;
  if (owner == wire::container_owner) {
    containers_.erase(id);
  } else if (wire::is_ttl_owner(owner)) {
    ttl_nodes_.erase(id);
  } else if (auto it = ephemerals_.find(owner); it != ephemerals_.end()) {
    it->second.erase(id);
    if (it->second.empty()) ephemerals_.erase(it);
  }
}

NodeId DataTree::child(NodeId parent, std::string_view name) const { return index_->find(parent, name); }

NodeId DataTree::lookup(std::string_view path) const {
  if (path.empty() || path[0] != '/') return no_node;
  NodeId id = 0;
  std::size_t pos = 1;
  while (pos < path.size()) {
    auto end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    id = child(id, path.substr(pos, end - pos));
    if (id == no_node) return no_node;
    pos = end + 1;
    if (end + 1 == path.size()) return no_node;  // trailing slash
  }
  return id;
}

wire::Stat DataTree::stored_stat(NodeId id) const {
  const Node& n = node(id);
  return wire::Stat{n.czxid,
                    n.mzxid,
                    n.ctime,
                    n.mtime,
                    n.version,
                    n.cversion,
                    n.aversion,
                    n.ephemeral_owner,
                    static_cast<int32_t>(n.data_size()),
                    static_cast<int32_t>(n.num_children),
                    n.pzxid};
}

wire::Stat DataTree::stat(NodeId id) const {
  wire::Stat s = stored_stat(id);
  s.cversion = wrapping_add(wrapping_add(s.cversion, s.cversion), -s.numChildren);
  if (s.ephemeralOwner == wire::container_owner || wire::is_ttl_owner(s.ephemeralOwner)) s.ephemeralOwner = 0;
  return s;
}

std::string_view DataTree::data(NodeId id) const { return node(id).data(); }
const wire::AclList& DataTree::acl(NodeId id) const { return acls_.get(node(id).acl); }
int64_t DataTree::ephemeral_owner(NodeId id) const { return node(id).ephemeral_owner; }
uint32_t DataTree::num_children(NodeId id) const { return node(id).num_children; }
int32_t DataTree::cversion(NodeId id) const { return node(id).cversion; }

std::vector<std::string> DataTree::children(NodeId id) const {
  std::vector<std::string> out;
  out.reserve(node(id).num_children);
  for (NodeId c = node(id).first_child; c != no_node; c = node(c).next_sibling) out.emplace_back(node(c).name());
  std::reverse(out.begin(), out.end());  // creation order
  return out;
}

uint64_t DataTree::descendant_count(NodeId id) const {
  uint64_t count = 0;
  std::vector<NodeId> stack{id};
  while (!stack.empty()) {
    const NodeId n = stack.back();
    stack.pop_back();
    for (NodeId c = node(n).first_child; c != no_node; c = node(c).next_sibling) {
      ++count;
      stack.push_back(c);
    }
  }
  return count;
}

std::string DataTree::path_of(NodeId id) const {
  if (id == 0) return "/";
  std::vector<std::string_view> parts;
  for (NodeId n = id; n != 0; n = node(n).parent) parts.push_back(node(n).name());
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    out.push_back('/');
    out.append(*it);
  }
  return out;
}

std::vector<std::string> DataTree::ephemerals_of(int64_t session) const {
  std::vector<std::string> out;
  if (auto it = ephemerals_.find(session); it != ephemerals_.end()) {
    for (NodeId id : it->second) out.push_back(path_of(id));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t DataTree::ephemeral_count() const {
  std::size_t n = 0;
  for (const auto& [session, ids] : ephemerals_) n += ids.size();
  return n;
}

namespace {
wire::AclList to_wire(const google::protobuf::RepeatedPtrField<proto::Acl>& acl) {
  wire::AclList out;
  out.reserve(static_cast<std::size_t>(acl.size()));
  for (const auto& a : acl) out.push_back(wire::Acl{a.perms(), wire::Id{a.scheme(), a.id()}});
  return out;
}
}  // namespace

OpResult DataTree::create(const proto::Op& op, int64_t zxid, int64_t time, std::vector<WatchTrigger>& triggers) {
  const auto& c = op.create();
  const std::string_view path = c.path();
  const std::string_view parent_name = parent_path(path);
  const NodeId parent = lookup(parent_name);
  if (parent == no_node) return {Error::noNode, c.path(), {}};
  Node& p = node(parent);
  const int32_t new_cversion = c.parent_cversion() == -1 ? wrapping_add(p.cversion, 1) : c.parent_cversion();
  const auto bump_parent = [&] {
    if (new_cversion > p.cversion) {
      p.cversion = new_cversion;
      p.pzxid = zxid;
    }
  };
  if (child(parent, base_name(path)) != no_node) {
    bump_parent();  // keeps replay over a fuzzy image idempotent, as ZooKeeper does
    return {Error::nodeExists, c.path(), {}};
  }
  const NodeId id = allocate(parent, base_name(path), c.data());
  Node& n = node(id);
  n.czxid = n.mzxid = n.pzxid = zxid;
  n.ctime = n.mtime = time;
  n.ephemeral_owner = c.ephemeral_owner();
  n.acl = acls_.acquire(to_wire(c.acl()));
  bump_parent();
  link_child(parent, id);
  index_owner(id, n.ephemeral_owner);
  data_bytes_ += path.size() + c.data().size();
  triggers.push_back({wire::EventType::nodeCreated, c.path()});
  triggers.push_back({wire::EventType::nodeChildrenChanged, std::string(parent_name)});
  return {Error::ok, c.path(), stat(id)};
}

OpResult DataTree::remove(std::string_view path, int64_t zxid, std::vector<WatchTrigger>& triggers) {
  const NodeId id = lookup(path);
  if (id == no_node || id == 0) {
    // As ZooKeeper's deleteNode: the parent's pzxid moves even when the child
    // is already gone (replay over a fuzzy snapshot taken after the delete).
    if (path.size() > 1 && is_valid_path(path)) {
      if (const NodeId parent = lookup(parent_path(path)); parent != no_node && zxid > node(parent).pzxid) {
        node(parent).pzxid = zxid;
      }
    }
    return {Error::noNode, std::string(path), {}};
  }
  if (node(id).num_children > 0) return {Error::notEmpty, std::string(path), {}};
  const NodeId parent = node(id).parent;
  unlink_child(id);
  Node& p = node(parent);
  if (zxid > p.pzxid) p.pzxid = zxid;
  unindex_owner(id, node(id).ephemeral_owner);
  data_bytes_ -= path.size() + node(id).data_size();
  release(id);
  triggers.push_back({wire::EventType::nodeDeleted, std::string(path)});
  triggers.push_back({wire::EventType::nodeChildrenChanged, std::string(parent_path(path))});
  return {Error::ok, std::string(path), {}};
}

OpResult DataTree::set_data(const proto::Op& op, int64_t zxid, int64_t time, std::vector<WatchTrigger>& triggers) {
  const auto& s = op.set_data();
  const NodeId id = lookup(s.path());
  if (id == no_node) return {Error::noNode, s.path(), {}};
  Node& n = node(id);
  data_bytes_ = data_bytes_ - n.data_size() + s.data().size();
  const std::string name(n.name());
  n.assign(name, s.data());
  n.version = s.version();
  n.mzxid = zxid;
  n.mtime = time;
  triggers.push_back({wire::EventType::nodeDataChanged, s.path()});
  return {Error::ok, s.path(), stat(id)};
}

OpResult DataTree::set_acl(const proto::Op& op) {
  const auto& s = op.set_acl();
  const NodeId id = lookup(s.path());
  if (id == no_node) return {Error::noNode, s.path(), {}};
  Node& n = node(id);
  const AclTable::Ref old = n.acl;
  n.acl = acls_.acquire(to_wire(s.acl()));
  acls_.release(old);
  n.aversion = s.aversion();
  return {Error::ok, s.path(), stat(id)};
}

void DataTree::apply(const proto::Txn& txn, std::vector<OpResult>& results, std::vector<WatchTrigger>& triggers) {
  const int64_t zxid = txn.zxid();
  for (const auto& op : txn.ops()) {
    switch (op.op_case()) {
      case proto::Op::kCreate: results.push_back(create(op, zxid, txn.time_ms(), triggers)); break;
      case proto::Op::kDelete: results.push_back(remove(op.delete_().path(), zxid, triggers)); break;
      case proto::Op::kSetData: results.push_back(set_data(op, zxid, txn.time_ms(), triggers)); break;
      case proto::Op::kSetAcl: results.push_back(set_acl(op)); break;
      case proto::Op::kCheck: results.push_back({Error::ok, op.check().path(), {}}); break;
      case proto::Op::kCloseSession: {
        const auto& close = op.close_session();
        for (const auto& p : close.paths_to_delete()) remove(p, zxid, triggers);
        // Anything the prep did not list (it cannot happen when prep and apply
        // agree) still dies with the session: an ephemeral must never outlive it.
        for (const auto& p : ephemerals_of(close.session_id())) remove(p, zxid, triggers);
        results.push_back({});
        break;
      }
      case proto::Op::kCreateSession:
      case proto::Op::OP_NOT_SET: results.push_back({}); break;
    }
  }
  if (zxid > last_zxid_) last_zxid_ = zxid;
}

void DataTree::for_each_node(const std::function<void(const NodeImage&)>& visit) const {
  struct Frame {
    NodeId id;
    std::size_t path_length;
  };
  std::string path;
  std::vector<Frame> stack{{0, 0}};
  while (!stack.empty()) {
    const Frame f = stack.back();
    stack.pop_back();
    path.resize(f.path_length);
    const Node& n = node(f.id);
    if (f.id != 0) {
      path.push_back('/');
      path.append(n.name());
    }
    NodeImage image{path.empty() ? std::string("/") : path, n.data(), &acls_.get(n.acl), stored_stat(f.id)};
    visit(image);
    for (NodeId c = n.first_child; c != no_node; c = node(c).next_sibling) stack.push_back({c, path.size()});
  }
}

bool DataTree::load_node(const NodeImage& image) {
  NodeId id = lookup(image.path);
  if (id == no_node) {
    if (image.path == "/" || !is_valid_path(image.path)) return false;
    const NodeId parent = lookup(parent_path(image.path));
    if (parent == no_node) return false;
    id = allocate(parent, base_name(image.path), image.data);
    link_child(parent, id);
    node(id).acl = acls_.acquire(image.acl ? *image.acl : wire::AclList{});
  } else {
    Node& n = node(id);
    unindex_owner(id, n.ephemeral_owner);
    data_bytes_ -= image.path.size() + n.data_size();
    const std::string name(n.name());
    n.assign(name, image.data);
    const AclTable::Ref old = n.acl;
    n.acl = acls_.acquire(image.acl ? *image.acl : wire::AclList{});
    acls_.release(old);
  }
  Node& n = node(id);
  n.czxid = image.stat.czxid;
  n.mzxid = image.stat.mzxid;
  n.pzxid = image.stat.pzxid;
  n.ctime = image.stat.ctime;
  n.mtime = image.stat.mtime;
  n.version = image.stat.version;
  n.cversion = image.stat.cversion;
  n.aversion = image.stat.aversion;
  n.ephemeral_owner = image.stat.ephemeralOwner;
  index_owner(id, n.ephemeral_owner);
  data_bytes_ += image.path.size() + image.data.size();
  return true;
}

}  // namespace corral::ensemble
