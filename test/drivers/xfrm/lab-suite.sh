#!/usr/bin/env bash
# Every real-kernel test of the xfrm driver in one lab boot (lab.test.ts runs it):
#   npx tsc -b && lab/run -- test/drivers/xfrm/lab-suite.sh
# the netlink round trip (lab-roundtrip.sh), then the driver scenarios (lab-driver.ts).
set -uo pipefail
[[ ${IPSEC_CTX_LAB:-} == 1 ]] || { echo "run inside the lab: lab/run -- $0" >&2; exit 2; }
dir=$(dirname "$0")
status=0
"$dir/lab-roundtrip.sh" 2>&1 || status=1
node dist/test/drivers/xfrm/lab-driver.js 2>&1 || status=1
exit $status
