// How both servers stop: SIGTERM (systemd, kill) or SIGINT (a terminal) is
// logged and calls the server's own shut-down once, on the io thread, which
// closes what keeps the io_context running so that run() returns.
#pragma once

#include <functional>

#include "corral/asio.h"

namespace corral::ensemble {

void on_shutdown_signal(asio::signal_set& signals, std::function<void()> shut_down);

}  // namespace corral::ensemble
