#!/usr/bin/env bash
# The xfrm benchmark (bench/xfrm.ts): SAs and policies inside the lab kernel (the host's has
# no ESP), then policies alone on the host kernel when run as root.
#   npx tsc -b && bench/xfrm.sh
# Inside the lab (lab/run -- bench/xfrm.sh) it runs the lab part only.
# Sizes: XFRM_LAB_SIZES (default 1000,10000: a guest process cannot touch much more than
# 256 MB, see docs/xfrm.md) and XFRM_HOST_SIZES (default 1000,10000,100000); XFRM_BENCH_MEM
# (default 2G) is the lab's memory; BENCH_LOOP=0 skips the per-line `ip` loop.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${IPSEC_CTX_LAB:-} == 1 ]]; then
  BENCH_SIZES=${XFRM_LAB_SIZES:-1000,10000} exec node dist/bench/xfrm.js
fi
lab/run --mem "${XFRM_BENCH_MEM:-2G}" --timeout 3600 -- bench/xfrm.sh
if [[ $(id -u) == 0 ]]; then
  BENCH_SIZES=${XFRM_HOST_SIZES:-1000,10000,100000} node dist/bench/xfrm.js --policies-only
else
  echo "bench/xfrm.sh: not root, so no host-kernel policy table" >&2
fi
