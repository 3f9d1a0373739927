#include "ensemble/net/shutdown_signal.h"

#include <signal.h>

#include <string>

#include "ensemble/net/server_log.h"

namespace corral::ensemble {

void on_shutdown_signal(asio::signal_set& signals, std::function<void()> shut_down) {
  signals.async_wait([shut_down = std::move(shut_down)](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log_line(std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
    shut_down();
  });
}

}  // namespace corral::ensemble
