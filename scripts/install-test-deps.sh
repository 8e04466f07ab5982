#!/usr/bin/env bash
# Installs the real SIP peers the end-to-end tests and benchmarks run against (DESIGN.md §4):
# SIPp (Debian package sip-tester) and Kamailio with its TLS module (kamailio-tls-modules), and
# the openssl command the TLS tests make their CA with. Needs root (or sudo) on Debian/Ubuntu.
set -euo pipefail
missing=()
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
command -v kamailio >/dev/null 2>&1 || [ -x /usr/sbin/kamailio ] || missing+=(kamailio)
dpkg-query -W -f='${Status}' kamailio-tls-modules 2>/dev/null | grep -q 'install ok installed' || missing+=(kamailio-tls-modules)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: sipp, kamailio (with TLS) and openssl already installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
