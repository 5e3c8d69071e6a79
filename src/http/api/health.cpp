// Health and readiness: a write probe through the writer, shared by concurrent callers.
#include "http/api/health.hpp"

#include "store/database.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <atomic>
#include <functional>
#include <limits>
#include <vector>

namespace switchboard::http::api {
namespace asio = boost::asio;
using verdict = std::optional<std::string>;  // nullopt: writable
// How long a write the storage refused (disk full, read-only, I/O error, lock timeout) keeps the
// verdict at "not writable" although the heartbeat commits.
constexpr std::chrono::seconds recent_refusal{10};

struct health::state : std::enable_shared_from_this<health::state> {
  state(asio::any_io_executor executor, store::committer& w, std::chrono::milliseconds d, std::chrono::milliseconds f,
        std::chrono::milliseconds s)
      : strand(asio::make_strand(executor)), timer(strand), writer(w), deadline(d), fresh(f), stall(s) {}

  using clock = std::chrono::steady_clock;
  using waiter = std::function<void(verdict)>;

  // Everything below `stopping` is touched on the strand only.
  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer timer;
  store::committer& writer;
  const std::chrono::milliseconds deadline;
  const std::chrono::milliseconds fresh;
  const std::chrono::milliseconds stall;
  std::atomic<bool> stopping{false};
  // Until when (steady clock ticks) the last verdict, a commit, may be reused without a trip to
  // the strand: under load, probes answer from it on their own thread.
  std::atomic<clock::rep> writable_until{std::numeric_limits<clock::rep>::min()};

  bool probing = false;
  clock::time_point probe_started;
  std::uint64_t generation = 0;
  bool has_last = false;
  verdict last;
  clock::time_point last_at;
  std::vector<waiter> waiters;

  // What the storage refused within recent_refusal, said as a verdict; nullopt when nothing was.
  std::optional<std::string> recently_refused() const {
    const auto refused = writer.last_storage_failure();
    if (!refused || refused->ago >= recent_refusal) return std::nullopt;
    return fmt::format("a write was refused {} ms ago: {}",
                       std::chrono::duration_cast<std::chrono::milliseconds>(refused->ago).count(), refused->what);
  }

  // The probe's heartbeat has not committed within the deadline: it waits behind the writer's
  // current batch. A writer that is working (it took that batch or finished one of its jobs
  // within `stall`, and is not waiting for a lock) is alive, however large the job: a 40 MiB
  // e-mail takes seconds to store. A writer waiting for another connection's write lock for the
  // deadline, or with no progress for `stall`, is not; a failing one (read-only, full disk)
  // fails the heartbeat itself, which answers. nullopt: no verdict yet, wait for the heartbeat's
  // own -- the writer is idle, so it has just run it (its completion is on the way to the strand)
  // or is waking up to run it.
  std::optional<verdict> overdue() const {
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    const auto now = writer.current_activity();
    if (now.waiting_for_lock >= deadline)
      return fmt::format("the writer has waited {} ms for the database's write lock (another process holds it)",
                         duration_cast<milliseconds>(now.waiting_for_lock).count());
    if (!now.busy) return std::nullopt;
    // A writer taking batch after batch only to have each refused (PostgreSQL unreachable while
    // clients keep filing) is busy and "progressing", and was judged writable (break12: 200
    // from /healthz and /readyz 3-7 s into an outage).
    if (auto refused = recently_refused()) return verdict{std::move(*refused)};
    if (now.since_progress < stall) return verdict{};
    return fmt::format("no write committed within {} ms, and the writer has made no progress for {} ms",
                       deadline.count(), duration_cast<milliseconds>(now.since_progress).count());
  }

  // Judges the probe `id` each `deadline` until its heartbeat answers.
  void arm(std::uint64_t id) {
    timer.expires_after(deadline);
    timer.async_wait([self = shared_from_this(), id](boost::system::error_code ec) {
      if (ec || !self->probing || self->generation != id) return;
      if (auto v = self->overdue())
        self->release(*v);
      else
        self->arm(id);
    });
  }

  // The last verdict was "writable", younger than the deadline, and the storage has refused no
  // job since: while a heartbeat is on its way, it answers at once (stale while revalidating).
  // A caller made to wait would wait behind the writer's current batch (a 40 MiB mail: 1.4-2 s,
  // issue 11's /healthz p99 target of 50 ms) for what the deadline's judgement says anyway.
  // Older than the deadline, it still answers while the writer is at work on a batch and
  // progressing, not waiting for another connection's lock: what overdue() would judge at the
  // deadline, said now.
  bool recently_good(clock::time_point now) const {
    if (!has_last || last) return false;
    if (const auto refused = writer.last_storage_failure(); refused && refused->ago <= now - last_at) return false;
    if (now - last_at < deadline) return true;
    const auto at_work = writer.current_activity();
    return at_work.busy && at_work.since_progress < stall && at_work.waiting_for_lock == clock::duration::zero();
  }

  void join(waiter w) {
    const auto now = clock::now();
    if (!probing && has_last && now - last_at < fresh) return w(last);
    const bool good = recently_good(now);
    if (probing) {
      if (now - probe_started >= deadline) {
        if (auto v = overdue()) return w(*v);
        arm(generation);  // the timer may have spent itself on an earlier verdict
      }
      if (good) return w(last);
      waiters.push_back(std::move(w));
      return;
    }
    probing = true;
    probe_started = now;
    const auto id = ++generation;
    if (good)
      w(last);
    else
      waiters.push_back(std::move(w));
    arm(id);
    writer.submit(store::touch_heartbeat, [self = shared_from_this(), id](std::exception_ptr error) {
      verdict problem;
      if (!error) {
        // The heartbeat needs a page or two: on a disk too full for a filing it may still commit.
        // A job the storage refused recently says more.
        if (auto refused = self->recently_refused()) problem = std::move(*refused);
      } else {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          problem = e.what();
        } catch (...) {
          problem = "unknown error";
        }
      }
      asio::post(self->strand, [self, id, problem] {
        if (self->generation != id) return;
        self->probing = false;
        self->has_last = true;
        self->last = problem;
        self->last_at = clock::now();
        self->writable_until = problem ? std::numeric_limits<clock::rep>::min()
                                       : (self->last_at + self->fresh).time_since_epoch().count();
        self->timer.cancel();
        self->release(problem);
      });
    });
  }

  void release(const verdict& v) {
    auto now_waiting = std::move(waiters);
    waiters.clear();
    for (auto& w : now_waiting) w(v);
  }
};

health::health(asio::any_io_executor executor, store::committer& writer, std::chrono::milliseconds deadline,
               std::chrono::milliseconds fresh, std::chrono::milliseconds stall)
    : state_(std::make_shared<state>(std::move(executor), writer, deadline, fresh, stall)) {}

health::~health() = default;

void health::shutting_down() noexcept { state_->stopping = true; }

bool health::is_shutting_down() const noexcept { return state_->stopping; }

bool health::recently_writable() const noexcept {
  return state::clock::now().time_since_epoch().count() < state_->writable_until.load(std::memory_order_relaxed);
}

asio::awaitable<verdict> health::writable() {
  if (recently_writable()) co_return std::nullopt;
  auto executor = co_await asio::this_coro::executor;
  auto shared = state_;
  // Named, not a temporary inside co_await: GCC 12 destroys such temporaries twice (PR 99576).
  auto initiation = [shared, executor](auto handler) {
    auto owned = std::make_shared<decltype(handler)>(std::move(handler));
    asio::post(shared->strand, [shared, executor, owned] {
      // Resume the caller on its own executor, not on the strand.
      shared->join([executor, owned](verdict v) {
        asio::post(executor, [owned, v = std::move(v)]() mutable { std::move(*owned)(std::move(v)); });
      });
    });
  };
  auto answer = co_await asio::async_initiate<decltype(asio::use_awaitable), void(verdict)>(initiation,
                                                                                          asio::use_awaitable);
  co_return answer;
}

namespace {

// What json_response would serialise from {"status": "ok", "database": "writable"}.
response healthy() { return json_text_response(status::ok, R"({"status":"ok","database":"writable"})"); }
response ready() { return json_text_response(status::ok, R"({"status":"ready"})"); }

}  // namespace

void add_health_routes(router& routes, health& checks) {
  using verb = beast_http::verb;
  // writable() may be called from any thread, and answers from the last verdict without a hop
  // while it is fresh: the probes run on their connections' strands, and while the verdict is
  // fresh they answer at once, with no coroutine and no deadline timer (route_options::immediate).
  route_options probe;
  probe.run_inline = true;
  probe.immediate = [&checks](const request&) -> std::optional<response> {
    if (checks.recently_writable()) return healthy();
    return std::nullopt;
  };
  routes.add(
      verb::get, "/healthz",
      [&checks](const request&, const route_match&) -> asio::awaitable<response> {
        auto problem = co_await checks.writable();
        if (problem)
          co_return error_response(status::service_unavailable, "database_unwritable",
                                   fmt::format("the database cannot take writes: {}", *problem));
        co_return healthy();
      },
      probe);
  route_options readiness;
  readiness.run_inline = true;
  readiness.immediate = [&checks](const request&) -> std::optional<response> {
    if (!checks.is_shutting_down() && checks.recently_writable()) return ready();
    return std::nullopt;
  };
  routes.add(verb::get, "/readyz", [&checks](const request&, const route_match&) -> asio::awaitable<response> {
    if (checks.is_shutting_down())
      co_return error_response(status::service_unavailable, "shutting_down", "the server is shutting down");
    auto problem = co_await checks.writable();
    if (problem)
      co_return error_response(status::service_unavailable, "database_unwritable",
                               fmt::format("the database cannot take writes: {}", *problem));
    co_return ready();
  }, readiness);
}

}  // namespace switchboard::http::api
