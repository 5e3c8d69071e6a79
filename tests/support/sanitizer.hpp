#pragma once
// Whether this test binary (and so the server it starts, built in the same tree) runs under
// AddressSanitizer: its quarantine keeps freed memory resident and its checks slow every step,
// so memory and latency bounds are stated apart for that stage.

namespace switchboard::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool under_address_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool under_address_sanitizer = true;
#else
inline constexpr bool under_address_sanitizer = false;
#endif
#else
inline constexpr bool under_address_sanitizer = false;
#endif

}  // namespace switchboard::testing
