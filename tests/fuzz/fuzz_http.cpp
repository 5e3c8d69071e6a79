// libFuzzer target: HTTP/1.1 request parsing as the server sets it up (header and body limits,
// chunked bodies), fed in two pieces so that split reads are covered too.
#include <boost/beast/http.hpp>

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace http = boost::beast::http;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(1024 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  const auto half = text.size() / 2;
  std::size_t used = parser.put(boost::asio::buffer(text.data(), half), ec);
  if (ec && ec != http::error::need_more) return 0;
  if (parser.is_done()) return 0;  // a done parser takes no more input
  ec = {};
  const auto rest = text.substr(used);
  parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
  if (!ec && parser.is_done()) (void)parser.get().target();
  return 0;
}
