#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (test/e2e/report-browser, test/e2e/operator-page) when no
# Chromium is there. playwright-core drives it by executablePath; playwright never downloads a browser.
# Called by .ci/run; safe to run again (does nothing when one is installed). Needs root (apt-get).
set -euo pipefail
for c in "${MURMUR_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
  if [ -n "$c" ] && [ -x "$c" ]; then echo "chromium: $c"; exit 0; fi
done
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "chromium: not installed and cannot install it here (needs root and apt-get); the browser tests will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "chromium: installed $(command -v chromium)"
