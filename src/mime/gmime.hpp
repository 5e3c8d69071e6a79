#pragma once
// GMime 3 start-up and ownership, shared by every unit that uses GMime: inbound parsing
// (http/webhooks/mime) and outbound composition (outbound/email_message).
//
// Thread-safety: init_gmime may be called from any thread, any number of times; the owners are
// plain unique_ptrs, one owner each.

#include <gmime/gmime.h>

#include <memory>

namespace switchboard::mime {

// Initialises GMime once per process. Call it before any other GMime call: g_mime_init's own
// guard is a plain counter, not safe when two threads start at once.
void init_gmime();

// Releases a GObject (GMime messages, parts, streams, address lists) with g_object_unref.
struct unref {
  void operator()(void* object) const {
    if (object != nullptr) g_object_unref(object);
  }
};
template <class T>
using ref = std::unique_ptr<T, unref>;

// Releases memory GLib handed over (g_free): strings from g_mime_object_to_string, g_convert...
struct gfree {
  void operator()(void* p) const { g_free(p); }
};
using gstring = std::unique_ptr<char, gfree>;

}  // namespace switchboard::mime
