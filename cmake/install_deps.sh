#!/bin/sh
# Installs uag's build and test dependencies on Debian 12 (skips the work when all are present).
# Used by the README's quick-start commands and by CI.
set -e
PKGS="cmake ninja-build g++ pkg-config libeigen3-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev \
libpcre2-dev libutf8proc-dev nodejs npm python3"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
