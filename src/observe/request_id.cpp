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
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("RAND_bytes failed while making a request id");
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const auto b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 0x0f];
  }
  return out;
}

std::string request_id_for(std::string_view sent) {
  return acceptable_request_id(sent) ? std::string(sent) : new_request_id();
}

}  // namespace switchboard::observe
