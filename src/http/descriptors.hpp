#pragma once
// How many connections the process's file descriptors allow (issue 11: with `ulimit -n 1024`
// and max_connections = 1024, accept() ran out of descriptors before the server reached its
// connection cap, so the cap's "close the oldest waiting connection first" never ran and new
// clients hung until idle ones timed out).
//
// At start-up the soft RLIMIT_NOFILE is raised to the hard limit, as nginx's
// worker_rlimit_nofile and Go's runtime (since 1.19) do, and the connection cap is lowered to
// what is left after `reserve` descriptors for everything else the server opens (database
// files and sessions, outbound sockets, temporary files of large uploads, epoll and timers).
//
// Thread-safety: call once, before threads start (setrlimit is process-wide).

#include <cstddef>
#include <string>

namespace switchboard::http {

struct connection_budget {
  std::size_t max_connections = 0;  // what the server may hold: at most the configured value
  std::size_t descriptors = 0;      // the soft limit after raising it
  std::string warning;              // non-empty when max_connections was lowered
};

// `wanted`: the configured max_connections; `reserve`: descriptors kept for everything but
// client connections. At least 16 connections are allowed whatever the limit (a server that
// cannot hold 16 is misconfigured, and its accept loop backs off when it runs out).
connection_budget budget_connections(std::size_t wanted, std::size_t reserve);

}  // namespace switchboard::http
