#!/usr/bin/env bash
# Captures fixtures/netlink/*.bin and the matching `ip` output from the lab kernel:
#   npx tsc -b && lab/run -- test/drivers/xfrm/capture-fixtures.sh
# For each fixtures/netlink/NAME.batch: a netns NAME, the batch installed with `ip -batch`,
# the dumps written by capture-fixtures.js, and `ip -s xfrm state` / `ip xfrm policy` saved
# as NAME.ip-state.txt / NAME.ip-policy.txt (the oracle the tests compare against).
set -euo pipefail
export TZ=UTC # ip prints add times in local time; the fixture tests read them as UTC
[[ ${IPSEC_CTX_LAB:-} == 1 ]] || { echo "run inside the lab: lab/run -- $0" >&2; exit 2; }
dir=fixtures/netlink
names=()
for batch in "$dir"/*.batch; do
  name=$(basename "$batch" .batch)
  ip netns add "$name"
  ip -n "$name" -batch "$batch"
  names+=("$name")
done
node dist/test/drivers/xfrm/capture-fixtures.js "$dir" "${names[@]}"
for name in "${names[@]}"; do
  ip -n "$name" -s xfrm state >"$dir/$name.ip-state.txt"
  ip -n "$name" xfrm policy >"$dir/$name.ip-policy.txt"
done
uname -r >"$dir/KERNEL"
