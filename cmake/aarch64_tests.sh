#!/bin/sh
# Cross-compiles the reference transformer's tests (tests/test_model.cpp: kernels, bit-identity across
# batch sizes, parity with transformers) and the sampling tests (tests/test_sampling.cpp: the NEON
# sampling loops bit-identical to the scalar ones) for AArch64 with Debian's g++-aarch64-linux-gnu and runs them
# under qemu-user: the NEON kernels (and the scalar ones) are checked on every commit, for correctness
# (qemu says nothing about speed). test_model needs only header-only dependencies (Eigen, nlohmann/json)
# and GoogleTest, built here from /usr/src/googletest, so no arm64 packages are needed.
#
#   cmake/aarch64_tests.sh [BUILD_DIR]    (default build-aarch64; needs cmake/install_deps.sh's packages)
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
out=${1:-build-aarch64}
mkdir -p "$out/include"
CXX=${CXX_AARCH64:-aarch64-linux-gnu-g++}
# Only the header-only libraries from the host's /usr/include, not the host's other headers.
ln -sfn /usr/include/eigen3 "$out/include/eigen3"
ln -sfn /usr/include/nlohmann "$out/include/nlohmann"
gt=/usr/src/googletest/googletest
if [ ! -f "$out/libgtest_all.a" ]; then
  $CXX -std=c++20 -O1 -isystem "$gt/include" -I "$gt" -c "$gt/src/gtest-all.cc" -o "$out/gtest-all.o"
  $CXX -std=c++20 -O1 -isystem "$gt/include" -c "$gt/src/gtest_main.cc" -o "$out/gtest_main.o"
  aarch64-linux-gnu-ar rcs "$out/libgtest_all.a" "$out/gtest-all.o" "$out/gtest_main.o"
fi
for t in ${UAG_AARCH64_TESTS:-test_model test_sampling}; do
  $CXX -std=c++20 -O2 -Wall -Wextra -Werror -Wno-missing-field-initializers -fopenmp -pthread \
    -I "$src/include" -I "$src/tests" -isystem "$out/include/eigen3" -isystem "$out/include" -isystem "$gt/include" \
    -DUAG_TEST_DATA_DIR="\"$src/tests/data\"" -DUAG_SOURCE_DIR="\"$src\"" -DUAG_BINARY_DIR="\"$src/$out\"" \
    "$src/tests/$t.cpp" "$out/libgtest_all.a" -o "$out/$t"
done
# Default kernels (NEON); the per-instruction-set tests also run the scalar ones.
for t in ${UAG_AARCH64_TESTS:-test_model test_sampling}; do
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/$t" --gtest_brief=1
done
