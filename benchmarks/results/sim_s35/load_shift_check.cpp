#include <cstdio>
#include <cmath>
#include <algorithm>
#include "uag/generation/draft_length.hpp"
#include "uag/sampling/rng.hpp"
static std::size_t geometric_accepts(uag::rng& r, double alpha, std::size_t g) {
  std::size_t a = 0; while (a < g && r.uniform() < alpha) ++a; return a; }
int main(int argc, char** argv) {
  const double kAlpha = argc > 1 ? atof(argv[1]) : 0.45;
  const double spread = argc > 2 ? atof(argv[2]) : 0.5;
  auto cost = [](std::size_t g) { const double gd = static_cast<double>(g); return g == 0 ? 1.0 : 1.05 + 0.25 * gd; };
  auto rate = [&](std::size_t g) { return uag::expected_tokens_per_pass(kAlpha, g) / cost(g); };
  std::size_t best = 0; for (std::size_t g = 0; g <= 12; ++g) if (rate(g) > rate(best)) best = g;
  double realized = 0, off = 0; const int kSeeds = 40;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    uag::generation_config cfg; cfg.draft_policy = uag::draft_length_policy::adaptive; cfg.num_draft_tokens = 5; cfg.max_draft_tokens = 12;
    uag::draft_length_controller c(cfg);
    uag::rng r(seed);
    double time = 0, tokens = 0, steps = 0, off_steps = 0;
    for (int gen = 0; gen < 16; ++gen) {
      c.restart();
      const double level = std::exp(spread * (2.0 * r.uniform() - 1.0));  // this generation's load
      for (int made = 0; made < 256;) {
        const std::size_t g = std::min<std::size_t>(c.next(), 255 - made);
        const std::size_t acc = geometric_accepts(r, kAlpha, g);
        const double gd = static_cast<double>(g);
        const double load = level * (0.9 + 0.2 * r.uniform());
        const double target = load * (1.0 + 0.1 * gd), draft = g ? load * (0.05 + 0.15 * gd) : 0.0;
        c.update(g, acc, acc < g, g ? draft / gd : 0.0, target, target + draft, g);
        made += static_cast<int>(acc) + 1;
        time += cost(g), tokens += uag::expected_tokens_per_pass(kAlpha, g);
        steps += 1, off_steps += g == 0;
      }
    }
    realized += tokens / time / rate(best) / kSeeds;
    off += off_steps / steps / kSeeds;
  }
  std::printf("alpha %.2f spread %.2f best g%zu (%.3f of g0) realized %.4f off %.3f\n", kAlpha, spread, best, rate(best)/rate(0), realized, off);
}
