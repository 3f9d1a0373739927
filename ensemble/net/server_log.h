// The server's log: one line on stderr with a local timestamp (systemd's
// journal, or a file a supervisor redirects it to).
#pragma once

#include <string>

namespace corral::ensemble {

void log_line(const std::string& line);

}  // namespace corral::ensemble
