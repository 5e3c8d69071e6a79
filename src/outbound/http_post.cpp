// One outbound HTTP(S) POST, guarded against SSRF (moved here from notify/worker.cpp unchanged).
#include "outbound/http_post.hpp"

#include "notify/address.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>

#include <vector>

namespace switchboard::outbound {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string describe(std::string_view step, const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return fmt::format("timeout during {}", step);
  return fmt::format("{}: {}", step, ec.message());
}

template <class Stream>
asio::awaitable<post_result> exchange(Stream& stream, bhttp::request<bhttp::string_body>& req, std::uint64_t limit) {
  boost::system::error_code ec;
  co_await bhttp::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return post_result{{}, {}, {}, describe("send", ec)};
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(limit);
  co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  // An answer too long to keep still has its status: only its body is cut.
  if (ec && ec != bhttp::error::body_limit) co_return post_result{{}, {}, {}, describe("read", ec)};
  auto& res = parser.get();
  co_return post_result{static_cast<int>(res.result_int()), std::string(res[bhttp::field::retry_after]),
                        std::move(res.body()), {}};
}

}  // namespace

std::string host_header(const notify::url_parts& url) {
  const bool default_port = url.port == (url.https ? 443 : 80);
  const auto host = url.host.find(':') != std::string::npos ? fmt::format("[{}]", url.host) : url.host;
  return default_port ? host : fmt::format("{}:{}", host, url.port);
}

asio::awaitable<post_result> http_post(asio::any_io_executor executor, asio::ssl::context& tls_context,
                                       const notify::url_parts& url, const post_options& options,
                                       bhttp::request<bhttp::string_body>& req) {
  try {
    boost::system::error_code ec;
    tcp::resolver resolver(executor);
    const auto port = std::to_string(url.port);
    const auto results =
        co_await resolver.async_resolve(url.host, port, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return post_result{{}, {}, {}, describe("dns", ec)};
    // The guard checks what the name resolved to, and we connect only to what passed it.
    std::vector<tcp::endpoint> allowed;
    std::string refused;
    for (const auto& entry : results) {
      const auto endpoint = entry.endpoint();
      if (options.allow_private || notify::is_public(endpoint.address())) allowed.push_back(endpoint);
      else refused += (refused.empty() ? "" : ", ") + endpoint.address().to_string();
    }
    if (allowed.empty())
      co_return post_result{{}, {}, {},
                            fmt::format("refused: {} resolves only to loopback or private addresses ({}); set "
                                        "allow_private = true on the subscription to allow them",
                                        url.host, refused)};
    beast::tcp_stream stream(executor);
    stream.expires_after(options.timeout);  // covers connect, TLS, send and read
    co_await stream.async_connect(allowed, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return post_result{{}, {}, {}, describe("connect", ec)};
    if (!url.https) {
      auto result = co_await exchange(stream, req, options.body_limit);
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      co_return result;
    }
    beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), tls_context);
    if (!SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str()))
      co_return post_result{{}, {}, {}, "tls: cannot set SNI"};
    tls.set_verify_callback(asio::ssl::host_name_verification(url.host));
    co_await tls.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return post_result{{}, {}, {}, describe("tls", ec)};
    auto result = co_await exchange(tls, req, options.body_limit);
    beast::get_lowest_layer(tls).socket().shutdown(tcp::socket::shutdown_both, ec);
    co_return result;
  } catch (const std::exception& e) {
    co_return post_result{{}, {}, {}, fmt::format("error: {}", e.what())};
  }
}

}  // namespace switchboard::outbound
