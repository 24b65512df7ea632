#!/usr/bin/env bash
# Print the path of a Chrome/Chromium for the browser tests (tests/browser/), installing Debian's
# `chromium` with apt when none is found and this runs as root with apt available.
# GitHub's Ubuntu runners ship Google Chrome (`google-chrome`, /usr/bin/google-chrome), found first.
set -euo pipefail

find_browser() {
  if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then echo "$CHROMIUM_PATH"; return 0; fi
  for name in google-chrome google-chrome-stable chromium chromium-browser chrome; do
    if path=$(command -v "$name" 2>/dev/null); then echo "$path"; return 0; fi
  done
  for path in /opt/google/chrome/chrome /usr/bin/chromium /usr/lib/chromium/chromium; do
    if [ -x "$path" ]; then echo "$path"; return 0; fi
  done
  return 1
}

if find_browser; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium: not found, installing Debian's chromium with apt" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium >&2
  find_browser && exit 0
fi
echo "chromium: no Chrome/Chromium found; install one or set CHROMIUM_PATH" >&2
exit 1
