#include "tools/bench/workload.h"

#include <thread>

#include "tools/bench/workloads.h"

namespace corral::bench {

void Workload::control(RunState& run) {
  while (!run.done()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

std::unique_ptr<Workload> make_workload(const std::string& name) {
  if (name == "mixed") return make_mixed();
  if (name == "create-seq") return make_create_seq();
  if (name == "lock") return make_lock();
  if (name == "election") return make_election();
  if (name == "membership") return make_membership();
  if (name == "barrier") return make_barrier();
  if (name == "queue") return make_queue();
  if (name == "rwlock") return make_rwlock();
  return nullptr;
}

void ensure_path(Client& client, const std::string& path) {
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    const std::string prefix = path.substr(0, pos);
    std::error_code ec;
    client.create(prefix, {}, {}, ec);
    if (ec && ec != Error::nodeExists) throw std::system_error(ec, "create " + prefix);
  }
}

std::string make_value(int size) {
  std::string v(static_cast<std::size_t>(size), 'v');
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>('a' + i % 26);
  return v;
}

}  // namespace corral::bench
