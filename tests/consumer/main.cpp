// A downstream project: includes the umbrella header and runs a target-only generation.
#include <uag/uag.hpp>

int main() {
  uag::rng r(42);
  return r.next_u64() == uag::rng(42).next_u64() ? 0 : 1;
}
