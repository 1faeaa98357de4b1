#!/usr/bin/env bash
# Installs the real services the integration tests start (never as system services:
# the tests run their own processes on free ports). Safe to run again: it installs
# only what is missing, and runs apt only when something is.
set -euo pipefail

# chromium: the emulator's browser-view tests drive it headless through Playwright (which
# never downloads a browser of its own); fonts-noto-color-emoji: the cards' status emoji in
# the screenshots those tests keep in docs/screenshots, as a phone shows them.
packages=(redis-server postgresql prometheus-alertmanager haproxy chromium fonts-noto-color-emoji)
missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${packages[*]})"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "system packages missing: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}  (or run 'make test' as root)" >&2
  exit 1
fi

echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps Alertmanager from pulling in Prometheus itself, and chromium
# from pulling in ~140 desktop packages (systemd, udev, avahi...); headless Chromium runs
# without them (checked on Debian 12: it launches, renders text and takes screenshots).
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: installed ${missing[*]}"
