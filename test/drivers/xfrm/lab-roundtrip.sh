#!/usr/bin/env bash
# Real-kernel round trip of every SA and policy kind, run inside the lab:
#   npx tsc -b && time lab/run -- test/drivers/xfrm/lab-roundtrip.sh
#
# Namespace `roundtrip` gets fixtures/netlink/states.batch (installed with `ip -batch`), plus
# three receiving SAs whose replay windows real ESP traffic from namespace `sender` (over a
# veth pair) has filled with gaps: a legacy 32-packet window, a 64-packet window without ESN
# and a 128-packet ESN window whose counter crosses 2^32. lab-roundtrip.js then dumps
# everything with the driver, checks the replay bitmaps against the packets that were sent,
# deletes it all, installs it again with the driver and compares `ip -s xfrm state` and
# `ip xfrm policy` before and after (see lab-roundtrip.ts).
set -euo pipefail
[[ ${IPSEC_CTX_LAB:-} == 1 ]] || { echo "run inside the lab: lab/run -- $0" >&2; exit 2; }
ns=roundtrip
tx=sender
ip netns add "$ns"
ip netns add "$tx"
ip -n "$ns" -batch fixtures/netlink/states.batch

# ---- replay windows with gaps, from real traffic ----------------------------------------
ip link add vs netns "$tx" type veth peer name vr netns "$ns"
k1=0x000102030405060708090a0b0c0d0e0f10111213
k2=0x202122232425262728292a2b2c2d2e2f30313233
k3=0x404142434445464748494a4b4c4d4e4f
k4=0x606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f
# name spi port algorithm receiver-options
flows=(
  "legacy 0xd0000001 6001 aead rfc4106(gcm(aes)) $k1 128|replay-window 32"
  "bmp 0xd0000002 6002 aead rfc4106(gcm(aes)) $k2 128|replay-window 64"
  "esn 0xd0000003 6003 enc cbc(aes) $k3 auth-trunc hmac(sha256) $k4 128 flag esn|replay-window 128 replay-seq 0xfffffff0"
)
rx_batch=("link set lo up" "addr add 10.99.0.2/24 dev vr" "link set vr up")
tx_batch=("link set lo up" "addr add 10.99.0.1/24 dev vs" "link set vs up")
tx_jump=()
for flow in "${flows[@]}"; do
  spec=${flow%%|*} rx_opts=${flow#*|}
  read -r name spi port algo <<<"$spec"
  sa="xfrm state add src 10.99.0.1 dst 10.99.0.2 proto esp spi $spi reqid ${spi: -1}0 mode transport $algo"
  sel="src 10.99.0.1/32 dst 10.99.0.2/32 proto udp dport $port"
  rx_batch+=("$sa $rx_opts")
  case $name in
    legacy) first="" jump="replay-oseq 9" ;;
    bmp) first="replay-window 64" jump="replay-window 64 replay-oseq 40" ;;
    esn) first="replay-window 1 replay-oseq 0xfffffffa" jump="replay-window 1 replay-oseq-hi 1 replay-oseq 2" ;;
  esac
  tx_batch+=("$sa $first" "xfrm policy add $sel dir out tmpl proto esp reqid ${spi: -1}0 mode transport")
  tx_jump+=("xfrm state delete src 10.99.0.1 dst 10.99.0.2 proto esp spi $spi" "$sa $jump")
done
printf '%s\n' "${rx_batch[@]}" | ip -n "$ns" -batch -
printf '%s\n' "${tx_batch[@]}" | ip -n "$tx" -batch -
send() { # send COUNT: COUNT datagrams to each flow's port, unconnected (ICMP errors ignored)
  ip netns exec "$tx" perl -MSocket -e '
    socket(my $s, PF_INET, SOCK_DGRAM, 0) or die "socket: $!";
    for my $port (6001, 6002, 6003) {
      send($s, "x", 0, sockaddr_in($port, inet_aton("10.99.0.2"))) or die "send: $!" for 1 .. $ARGV[0];
    }' "$1"
}
send 5 # legacy and bmp: 1-5; esn: 0xfffffffb-0xffffffff
printf '%s\n' "${tx_jump[@]}" | ip -n "$tx" -batch -
send 3 # legacy: 10-12; bmp: 41-43; esn: 0x100000003-0x100000005

node dist/test/drivers/xfrm/lab-roundtrip.js "$ns"
