#!/usr/bin/env bash
# Fetches a pinned llama.cpp release (the source node-llama-cpp ships as a git bundle: no registry has
# llama.cpp as a library), builds libllama + ggml (CPU backend, RPC client) and installs it into a cache
# folder reused across runs. Prints the install prefix on its last line (use it as CMAKE_PREFIX_PATH).
#
#   cmake/fetch_llama_cpp.sh [release|b7698] [--tools|--bench-tools]
#
#   release  node-llama-cpp 3.22.1 -> the September 2026 llama.cpp release (default; what the adapter uses)
#   b7698    node-llama-cpp 3.15.0 -> b7698, the last release whose llama-speculative-simple drafts across
#            vocabularies (used only for side-by-side measurements)
#   --tools        also build llama-quantize (quantized test fixtures) and rpc-server (RPC test) into <prefix>/bin
#   --bench-tools  --tools plus llama-bench and llama-speculative-simple (side-by-side measurements only)
#
# Flags, and why:
#   GGML_LLAMAFILE=OFF  llamafile's sgemm handles multi-row products but not one-row ones, so a verified
#                       (batched) row differs from the same row decoded alone in the last bits and greedy
#                       assisted output can differ from target-only output. Off, rows are bit-identical.
#   GGML_NATIVE=ON      this cache is per machine; -march=native gives the AVX-512 kernels that llama-bench and
#                       llama-speculative-simple (built with the same flags) also use, so comparisons are fair.
#                       The stamp holds a hash of the CPU flags, so a cache copied to another CPU rebuilds.
#   GGML_RPC=ON         the RPC client backend (issue 16: targets split over rpc-server processes).
#   BUILD_SHARED_LIBS=OFF  static libraries: tests and the CLI need no rpath or LD_LIBRARY_PATH.
# An install whose stamp differs (other flags, other CPU) is rebuilt.
set -euo pipefail

which_release=release
tool_list=()
for arg in "$@"; do
  case "$arg" in
    --tools) tool_list=(llama-quantize rpc-server) ;;
    --bench-tools) tool_list=(llama-quantize rpc-server llama-bench llama-speculative-simple) ;;
    *) which_release=$arg ;;
  esac
done
tools=0
[[ ${#tool_list[@]} -gt 0 ]] && tools=1

case "$which_release" in
  release) npm_version=3.22.1; sha=a0d9dd80eacd2ab1cfe71aee57ac8a806487fd70b3d2a38fbec637752d9e5c5f
           rpc_target=ggml-rpc-server ;;
  b7698)   npm_version=3.15.0; sha=062e46ec0ae86b3c505fa13d3eb16d0a74a986241aa4859744575c3180ee39a4
           rpc_target=rpc-server ;;
  *) echo "usage: $0 [release|b7698] [--tools|--bench-tools]" >&2; exit 2 ;;
esac

cache=${UAG_LLAMA_CPP_CACHE:-$HOME/.cache/uag/llama.cpp}
jobs=${UAG_JOBS:-2}
flags="-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON -DGGML_LLAMAFILE=OFF -DGGML_RPC=ON \
-DGGML_OPENMP=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF"
# Not in the stamp: they choose which programs get built, not how the libraries are compiled.
extra="-DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF"
cpu_hash=$( (grep -m1 '^flags' /proc/cpuinfo || true) | sha256sum | cut -c1-8)
stamp=$(printf '%s %s %s' "$npm_version" "$flags" "$cpu_hash" | sha256sum | cut -c1-12)
prefix=$cache/$npm_version-$stamp
src=$cache/src/$npm_version
mkdir -p "$cache/src" "$cache/build"

need_tools() {
  [[ $tools == 0 ]] && return 1
  for t in "${tool_list[@]}"; do
    [[ -x "$prefix/bin/$t" ]] || return 0
  done
  return 1
}

if [[ -f "$prefix/.complete" ]] && ! need_tools; then
  echo "$prefix"
  exit 0
fi

tgz=$cache/src/node-llama-cpp-$npm_version.tgz
if [[ ! -f "$tgz" ]] || ! echo "$sha  $tgz" | sha256sum -c --quiet - 2>/dev/null; then
  (cd "$cache/src" && npm pack "node-llama-cpp@$npm_version" >/dev/null)
fi
echo "$sha  $tgz" | sha256sum -c --quiet - || { echo "sha256 mismatch for $tgz" >&2; exit 1; }

if [[ ! -f "$src/CMakeLists.txt" ]]; then
  rm -rf "$src" "$cache/src/unpack-$npm_version"
  mkdir -p "$cache/src/unpack-$npm_version"
  tar -xzf "$tgz" -C "$cache/src/unpack-$npm_version" package/llama/gitRelease.bundle
  git clone -q "$cache/src/unpack-$npm_version/package/llama/gitRelease.bundle" "$src"
  rm -rf "$cache/src/unpack-$npm_version"
fi

build=$cache/build/$npm_version-$stamp
if [[ ! -f "$prefix/.complete" ]]; then
  # shellcheck disable=SC2086
  cmake -S "$src" -B "$build" -G Ninja $flags $extra -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF \
    -DCMAKE_INSTALL_PREFIX="$prefix" >"$build.configure.log"
  cmake --build "$build" -j "$jobs"
  cmake --install "$build" >/dev/null
fi
if [[ $tools == 1 ]]; then
  # Same build folder, same flags: ggml and libllama are not recompiled for the tools.
  # shellcheck disable=SC2086
  cmake -S "$src" -B "$build" -G Ninja $flags $extra -DLLAMA_BUILD_EXAMPLES=ON -DLLAMA_BUILD_TOOLS=ON \
    -DCMAKE_INSTALL_PREFIX="$prefix" >"$build.configure-tools.log"
  # The release names its RPC server ggml-rpc-server; it is installed as rpc-server for both.
  targets=("${tool_list[@]/#rpc-server/$rpc_target}")
  cmake --build "$build" --target "${targets[@]}" -j "$jobs"
  mkdir -p "$prefix/bin"
  for t in "${tool_list[@]}"; do
    cp "$build/bin/${t/#rpc-server/$rpc_target}" "$prefix/bin/$t"
  done
fi
ln -sfn "$src" "$prefix/src"  # gguf-py for the fixture script
touch "$prefix/.complete"
echo "$prefix"
