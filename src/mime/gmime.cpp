// GMime's process-wide initialisation, guarded for threads.
#include "mime/gmime.hpp"

#include <mutex>

namespace switchboard::mime {

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

}  // namespace switchboard::mime
