// The connection cap within the file descriptor limit (http/descriptors.hpp).
#include "http/descriptors.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>

namespace switchboard::http {

connection_budget budget_connections(std::size_t wanted, std::size_t reserve) {
  connection_budget out;
  out.max_connections = wanted;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return out;
  if (limit.rlim_cur != RLIM_INFINITY && (limit.rlim_max == RLIM_INFINITY || limit.rlim_cur < limit.rlim_max)) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    // Some kernels refuse RLIM_INFINITY or a value above fs.nr_open: keep what we had then.
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY) {
    out.descriptors = 0;
    return out;
  }
  out.descriptors = static_cast<std::size_t>(limit.rlim_cur);
  const std::size_t room = out.descriptors > reserve ? out.descriptors - reserve : 0;
  const std::size_t allowed = std::max<std::size_t>(room, 16);
  if (wanted == 0 || wanted > allowed) {
    out.max_connections = allowed;
    out.warning = fmt::format(
        "the file descriptor limit ({}, hard {}) leaves room for {} connections after {} for the database, outbound "
        "sockets and files: serving at most {} connections, not max_connections = {} (raise the limit: ulimit -n, or "
        "LimitNOFILE= in a systemd unit)",
        out.descriptors, limit.rlim_max == RLIM_INFINITY ? std::string("unlimited") : std::to_string(limit.rlim_max),
        allowed, reserve, allowed, wanted);
  }
  return out;
}

}  // namespace switchboard::http
