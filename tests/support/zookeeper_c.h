// The official ZooKeeper C client's header (Debian libzookeeper-mt-dev), with
// the warnings our -Werror build would raise for it switched off. Compile with
// THREADED (the multi-threaded library, zookeeper_mt): the synchronous API
// depends on it.
#pragma once

#ifndef THREADED
#error "define THREADED to use the multi-threaded ZooKeeper C client (zookeeper_mt)"
#endif

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <zookeeper/zookeeper.h>
#pragma GCC diagnostic pop
