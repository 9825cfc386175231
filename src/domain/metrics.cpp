#include "domain/metrics.hpp"

namespace chatd {

Metrics& metrics() noexcept {
  static Metrics m;
  return m;
}

}  // namespace chatd
