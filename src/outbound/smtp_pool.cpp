// One Asio thread for blocking libcurl submissions.
#include "outbound/smtp_pool.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace switchboard::outbound {

struct smtp_pool::state {
  smtp_settings settings;
  // One thread: a slow server delays the next message instead of opening more connections to it.
  boost::asio::thread_pool thread{1};
};

smtp_pool::smtp_pool(smtp_settings settings) : state_(std::make_unique<state>()) {
  smtp_global_init();  // here, on the constructing thread, before the pool's thread uses libcurl
  state_->settings = std::move(settings);
}

smtp_pool::~smtp_pool() { state_->thread.join(); }

void smtp_pool::post(std::string envelope_from, std::vector<std::string> recipients, std::string message,
                     std::function<void(smtp_verdict)> done) {
  boost::asio::post(state_->thread, [s = state_.get(), from = std::move(envelope_from), to = std::move(recipients),
                                     message = std::move(message), done = std::move(done)] {
    done(submit(s->settings, from, to, message));
  });
}

}  // namespace switchboard::outbound
