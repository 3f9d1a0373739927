// Loopback sockets for tests: free ports, blocking connections with deadlines,
// four-letter words.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace corral::test {

// A TCP port on 127.0.0.1 that nothing listened on a moment ago (the kernel's
// pick for a bind to port 0). Another process may take it before we do; the
// server launcher retries with a new port when the bind fails.
uint16_t pick_free_port();

// A connected, blocking TCP socket to 127.0.0.1:`port`, or -1 if the
// connection was refused or did not complete within `timeout`. A non-empty
// `source_ip` (another loopback address, such as "127.0.0.2") makes the
// connection come from there: a second client address for per-IP limits.
int connect_loopback(uint16_t port, std::chrono::milliseconds timeout, const std::string& source_ip = {});

// Sends `word` ("ruok") and returns everything the server answers up to its
// closing the connection; nullopt if it could not connect, or the answer did
// not end within `timeout`.
std::optional<std::string> four_letter_word(uint16_t port, std::string_view word,
                                            std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace corral::test
