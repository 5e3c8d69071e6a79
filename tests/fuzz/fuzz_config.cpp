// libFuzzer target: the whole settings file (calendars, SLA, ladders, integrations) and the
// policy built from it. load_settings reads a path, so each input goes through a file in /dev/shm.
#include "config/settings.hpp"
#include "policy/load.hpp"

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/dev/shm/switchboard-fuzz-config-" + std::to_string(::getpid()) + ".toml";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const auto settings = switchboard::config::load_settings(path);
    (void)switchboard::policy::load(settings);
  } catch (const std::exception&) {
    // Config errors are exceptions with file:line:col; only crashes count.
  }
  return 0;
}
