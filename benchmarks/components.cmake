# Benchmarks (one line per component): uag_add_benchmark(<name>)
uag_add_benchmark(generator)
uag_add_benchmark(model)
