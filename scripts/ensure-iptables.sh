#!/usr/bin/env bash
# Installs Debian's iptables for the fault harness's packet loss (`murmur testnet --faults ... --link-loss`,
# node/faults/link-shape.ts, test/node/link-shape.test.ts) when it is missing. Called by `npm test` (pretest);
# safe to run again. Without root or apt-get it does nothing and the packet-loss test skips with the reason.
set -euo pipefail
if command -v iptables >/dev/null; then echo "iptables: $(command -v iptables)"; exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "iptables: not installed and cannot install it here (needs root and apt-get); the packet-loss test will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends iptables >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq --no-install-recommends iptables >/dev/null; }
echo "iptables: installed $(command -v iptables)"
