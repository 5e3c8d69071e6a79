#pragma once
// The version both executables print for --version.

#include <string_view>

namespace build_info {

// "switchboard 0.1.0 (commit 1a2b3c4d5e6f)": the project version from CMake and the commit the
// binary was built from (the abbreviated hash, with "-dirty" when the tree had uncommitted
// changes; "unknown" outside a git checkout unless SWITCHBOARD_GIT_COMMIT was set at configure
// time). `program` is the name printed first. Thread-safe: reads constants only.
std::string version_text(std::string_view program);

}  // namespace build_info
