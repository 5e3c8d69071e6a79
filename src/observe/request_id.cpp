// Request ids: the client's when it is a safe token, else 128 random bits.
#include "observe/request_id.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace switchboard::observe {
namespace {

// RFC 9110 section 5.6.2 tchar.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  constexpr std::string_view others = "!#$%&'*+-.^_`|~";
  return others.find(c) != std::string_view::npos;
}

}  // namespace

bool acceptable_request_id(std::string_view id) {
  return !id.empty() && id.size() <= max_request_id_bytes && std::all_of(id.begin(), id.end(), is_token_char);
}

std::string new_request_id() {
  // A RAND_bytes call costs about half a microsecond whatever its size (measured here): drawing
  // 256 ids' bytes at once makes it a couple of nanoseconds an id, on the hot path of every request
  // without an id of its own. Each id is still 16 bytes of OpenSSL's DRBG, used once.
  constexpr std::size_t id_bytes = 16;
  thread_local std::array<unsigned char, id_bytes * 256> pool{};
  thread_local std::size_t used = pool.size();
  if (used == pool.size()) {
    if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1)
      throw std::runtime_error("RAND_bytes failed while making a request id");
    used = 0;
  }
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out(id_bytes * 2, '0');
  for (std::size_t i = 0; i < id_bytes; ++i) {
    const auto b = pool[used + i];
    out[2 * i] = hex[b >> 4];
    out[2 * i + 1] = hex[b & 0x0f];
  }
  used += id_bytes;
  return out;
}

std::string request_id_for(std::string_view sent) {
  return acceptable_request_id(sent) ? std::string(sent) : new_request_id();
}

}  // namespace switchboard::observe
