#include "ensemble/net/standalone_server.h"

#include <signal.h>

#include <algorithm>
#include <chrono>

#include "ensemble/net/core_config.h"
#include "ensemble/net/process_view.h"
#include "ensemble/net/server_log.h"
#include "ensemble/net/shutdown_signal.h"
#include "ensemble/net/wall_clock.h"

namespace corral::ensemble {

StandaloneServer::StandaloneServer(ServerConfig config)
    : config_(std::move(config)),
      core_(core_config_of(config_)),
      store_(
          io_, config_,
          DataStore::Hooks{[this](int64_t zxid) { on_synced(zxid); }, {}, [](const std::string& l) { log_line(l); }}),
      front_(io_, config_, core_,
             ClientFrontEnd::Hooks{[this] { after_input(); },
                                   [this](std::string_view word) { return on_four_letter_word(word); }}),
      signals_(io_, SIGINT, SIGTERM),
      tick_timer_(io_) {}

void StandaloneServer::recover() {
  const DataStore::Recovery r = store_.load(core_);
  core_.start(wall_ms());
  // A snapshot right away when there is none yet or the log had to be
  // replayed, so the next restart starts from here (ZooKeeper does the same).
  if (!r.had_snapshot || r.replayed > 0) store_.snapshot(core_);
}

void StandaloneServer::listen() { front_.listen("standalone"); }

void StandaloneServer::after_input() {
  Effects effects = core_.take_effects();
  for (auto& txn : effects.log) store_.append(std::move(txn));
  front_.apply(effects);
}

void StandaloneServer::on_synced(int64_t zxid) {
  core_.synced(zxid, wall_ms());
  after_input();
  front_.resume_throttled();
  store_.maybe_snapshot(core_);
}

std::string StandaloneServer::on_four_letter_word(std::string_view word) {
  ServerView view{config_, core_};
  fill_process_view(view, store_, front_);
  return four_letter_reply(word, view);
}

void StandaloneServer::schedule_tick() {
  // Sessions expire with tick granularity, as ZooKeeper's expiry buckets do;
  // check at least a few times a second so short timeouts are honoured.
  const auto period = std::chrono::milliseconds(std::clamp(config_.tick_time_ms / 2, 10, 500));
  tick_timer_.expires_after(period);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    core_.tick(wall_ms());
    after_input();
    schedule_tick();
  });
}

void StandaloneServer::run() {
  on_shutdown_signal(signals_, [this] {
    stopping_ = true;
    tick_timer_.cancel();
    front_.close_all();
    store_.stop();
  });
  front_.start_accepting();
  schedule_tick();
  store_.start_purge_timer();
  io_.run();
}

}  // namespace corral::ensemble
