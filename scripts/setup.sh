#!/usr/bin/env bash
# Install everything the service needs on Debian: system packages, the virtualenv, Python packages, the web app.
# Usage: scripts/setup.sh [--with-browser]   (--with-browser adds the test tools: Debian's chromium for the
# end-to-end tests, LibreOffice Calc and GDAL, which open the exports as an office does)
set -euo pipefail
cd "$(dirname "$0")/.."

with_browser=0
[ "${1:-}" = "--with-browser" ] && with_browser=1

die() { echo "setup: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root (or sudo) to run: $*"; fi; }

command -v python3 >/dev/null || die "python3 is missing"

packages=(libzbar0)
python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
command -v npm >/dev/null || packages+=(nodejs npm)
command -v openssl >/dev/null || packages+=(openssl)
if [ "$with_browser" = 1 ]; then
  packages+=(chromium fonts-noto-cjk gdal-bin)
  command -v soffice >/dev/null || packages+=(libreoffice-calc-nogui)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  as_root apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null \
    || die "could not install system packages: ${missing[*]}"
fi
ldconfig -p 2>/dev/null | grep -q 'libzbar\.so\.0' || [ -e /usr/lib/x86_64-linux-gnu/libzbar.so.0 ] \
  || die "libzbar0 is not installed: photo decoding needs it"
if [ "$with_browser" = 1 ]; then
  [ -x /usr/bin/chromium ] || die "chromium is not installed at /usr/bin/chromium: the browser tests need it"
  command -v soffice >/dev/null || die "LibreOffice (soffice) is not installed: the export tests need it"
  command -v ogrinfo >/dev/null || die "GDAL's ogrinfo is not installed: the GeoJSON export test needs it"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv || die "could not create the virtualenv in .venv"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -r requirements.txt || die "pip could not install requirements.txt"

if [ -f scripts/build_web.sh ]; then
  bash scripts/build_web.sh || die "building the web app (mobile_web/) failed"
fi
echo "setup: ready"
