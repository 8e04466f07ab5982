#!/usr/bin/env bash
# Installs the real SIP peers the end-to-end tests and benchmarks run against (DESIGN.md §4):
# SIPp (Debian package sip-tester) and Kamailio. Needs root (or sudo) on Debian/Ubuntu.
set -euo pipefail
missing=()
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
command -v kamailio >/dev/null 2>&1 || [ -x /usr/sbin/kamailio ] || missing+=(kamailio)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: sipp and kamailio already installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
