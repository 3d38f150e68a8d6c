#!/usr/bin/env bash
# Re-captures fixtures/strongswan/ from real charons (root; lab/strongswan/install-deps first):
#
#   npx tsc -b && test/drivers/strongswan/capture-fixtures.sh
#
# Each scenario runs test/drivers/strongswan/lab-scenario.ts in a fresh lab and keeps its HA
# datagrams, events, `swanctl --list-sas`, the model it built, and the lines of the gateway's
# charon log the tests read (key dumps, SA up/down), all of them lab-only secrets.
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=fixtures/strongswan
scenarios=(
  "gcm-x25519 aes128gcm16-prfsha256-x25519 aes128gcm16"
  "cbc-modp2048-pfs aes256-sha256-modp2048 aes128-sha256-modp2048"
  "xcbc-ecp256-pfs aes128-sha1-prfaesxcbc-ecp256 aes256-sha384-ecp256"
)
for s in "${scenarios[@]}"; do
  read -r name ike esp <<<"$s"
  tmp=$(mktemp -d)
  lab/strongswan/with-lab --no-start --ike-proposal "$ike" --esp-proposal "$esp" -- \
    node dist/test/drivers/strongswan/lab-scenario.js "$tmp"
  mkdir -p "$out/$name"
  cp "$tmp"/{ha.txt,events.txt,list-sas.txt,context.json,version.txt} "$out/$name/"
  # Key dumps (a header line and its hex rows, per thread) plus the SA up/down lines.
  awk '
    { thread = $2; sub(/\[.*/, "", thread) }
    / => [0-9]+ bytes @ 0x/ {
      keep[thread] = ($0 ~ /(Sk_(d|ai|ar|ei|er|pi|pr) secret|(encryption|integrity) (initiator|responder) key) =>/)
      if (keep[thread]) print
      next
    }
    /^[^ ]+ [0-9]+\[[A-Z]+\] (<[^>]*> )? *[0-9]+: / { if (keep[thread]) print; next }
    /established|Starting IKE charon|handling HA CHILD_SA/ { print }
  ' "$tmp/charon-gw.log" >"$out/$name/charon-gw.log"
  rm -rf -- "$tmp"
  echo "captured $out/$name ($(wc -l <"$out/$name/ha.txt") datagrams)"
done
