#!/usr/bin/env bash
# Install the Debian packages the platform needs, where they are missing and apt-get exists:
# a Japanese font for PDF reports (embedded by weasyprint), Chromium for browser tests and
# OpenSSL's headers, which the audit walk's C accelerator (audit/_walk.c) is compiled with.
set -euo pipefail
packages=(fonts-ipaexfont-gothic chromium libssl-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "note: install ${missing[*]} for PDF reports, browser tests and the audit accelerator" >&2
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
