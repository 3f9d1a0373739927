// The one way Corral includes Boost.Asio. Asio 1.18 (Boost 1.74) uses
// std::exchange without including <utility>, which GCC 12 in C++20 mode does
// not pull in by itself.
#pragma once

#include <utility>

#include <boost/asio.hpp>

namespace corral {
namespace asio = boost::asio;
}  // namespace corral
