#!/usr/bin/env bash
# Make sure headless Chromium and its driver (Debian's chromium + chromium-driver) are installed
# for the web UI's browser tests (tests/web); idempotent, no browser download.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium and chromedriver are missing and apt-get is not available: install them" >&2
  exit 1
fi
sudo_cmd=""
if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi
echo "installing chromium and chromium-driver"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver
