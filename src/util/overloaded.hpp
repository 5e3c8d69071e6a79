#pragma once
// The usual visitor of lambdas for std::visit over the typed events (cppreference, std::visit,
// example 4): one call operator per alternative.

namespace switchboard::util {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace switchboard::util
