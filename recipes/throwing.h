// The throwing forms of the recipes' calls, written once: each recipe writes
// its error_code form and derives the throwing one from it with these, so
// every throw says "<verb> <object>: <ZooKeeper's message>" the same way.
//
//   void Lock::unlock() { or_throw("unlock", path, [&](std::error_code& ec) { release(ec); }); }
//   bool Barrier::wait_for(ms t) {
//     return or_throw_unless_timeout("wait on barrier", path_, [&](std::error_code& ec) { return wait(now + t, ec); });
//   }
#pragma once

#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "corral/wire/error.h"

namespace corral::recipes {

[[noreturn]] inline void throw_failure(std::error_code ec, std::string_view verb, std::string_view object) {
  throw std::system_error(ec, std::string(verb) + " " + std::string(object));
}

// call(ec)'s result; throws std::system_error when it set `ec`.
template <class Call>
auto or_throw(std::string_view verb, std::string_view object, Call&& call) {
  std::error_code ec;
  if constexpr (std::is_void_v<std::invoke_result_t<Call&, std::error_code&>>) {
    call(ec);
    if (ec) throw_failure(ec, verb, object);
  } else {
    auto result = call(ec);
    if (ec) throw_failure(ec, verb, object);
    return result;
  }
}

// The same for a wait with a deadline: a timeout (operationTimeout) is not an
// error; the call's result says it (false, empty).
template <class Call>
auto or_throw_unless_timeout(std::string_view verb, std::string_view object, Call&& call) {
  std::error_code ec;
  auto result = call(ec);
  if (ec && ec != Error::operationTimeout) throw_failure(ec, verb, object);
  return result;
}

}  // namespace corral::recipes
