#!/usr/bin/env bash
# The strongSwan benchmark (issue 5, docs/strongswan.md "Benchmark"): moving N tunnels from
# gateway A to gateway B with ipsec-ctx (`get` from A, `put` into B) against the same N clients
# re-establishing their tunnels to B from scratch, in the same run, on fresh namespaces and
# charons for every measurement.
#
#   npm run bench:strongswan        (tsc -b && bench/strongswan.sh; needs root)
#
# Environment: BENCH_N (default 1,100,1000), BENCH_RUNS (runs per N and mode, default 2),
# BENCH_GET_PARAMS / BENCH_PUT_PARAMS (extra strongswan: URI parameters, e.g. "&settle=200"),
# BENCH_KEEP=1 keeps the run directory (configs, charon logs at level 1, results).
# BENCH_IKE_PROPOSAL (default aes128gcm16-prfsha256-x25519, the cheapest key exchange to
# re-establish with; e.g. aes128gcm16-prfsha256-modp3072 for a classic one).
# Diagnostics: BENCH_HA_HEARTBEAT=MS sets the gateways' ha heartbeat_delay (charon's default
# 1000); BENCH_PROFILE=1 writes CPU profiles of ipsec-ctx (LAB/get.prof, put.prof);
# BENCH_PERF=1 records B's charon with perf during the put (LAB/put.perf.data).
#
# For each N and run, two labs (namespaces from lab/strongswan/swlab.sh, configs of our own):
#   re-establish: gateway B (kernel-libipsec, no ha plugin) and a load-tester client charon
#                 that fires N initiations at once (bench/strongswan.ts reestablish);
#   move:         gateways A and B (both with the ha plugin pointing at ipsec-ctx on their
#                 own loopback) and the load-tester client: the N clients come up to A, then
#                 `ipsec-ctx get` from A, A fails (SIGKILL), `ipsec-ctx put` into B, and B is
#                 checked for N ESTABLISHED IKE SAs with their CHILD SAs INSTALLED
#                 (bench/strongswan.ts move).
# Every result is a JSON line in the run directory; bench/strongswan.ts table prints them.
set -euo pipefail
prog=bench/strongswan.sh
cd "$(dirname "$0")/.."

[[ $(id -u) -eq 0 ]] || { echo "$prog: must run as root (network namespaces, charon)" >&2; exit 1; }
for f in /usr/lib/ipsec/charon /usr/sbin/swanctl /usr/lib/ipsec/plugins/libstrongswan-ha.so \
  /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so; do
  [[ -e $f ]] || { echo "$prog: $f not found; run lab/strongswan/install-deps" >&2; exit 1; }
done
[[ -c /dev/net/tun ]] || { echo "$prog: /dev/net/tun missing (kernel-libipsec needs it)" >&2; exit 1; }
# GNU time reports ipsec-ctx's CPU and peak RSS.
lab/apt-ensure time >/dev/null
[[ -f dist/bench/strongswan.js ]] || { echo "$prog: dist/bench/strongswan.js missing; run npm run build" >&2; exit 1; }
bench/strongswan/build-load-tester >&2
load_tester=${LOAD_TESTER_DIR:-/opt/ipsec-ctx/load-tester}/libstrongswan-load-tester.so

sizes=${BENCH_N:-1,100,1000}
ike_proposal=${BENCH_IKE_PROPOSAL:-aes128gcm16-prfsha256-x25519}
[[ $ike_proposal =~ ^[a-z0-9_-]+$ ]] || { echo "$prog: BENCH_IKE_PROPOSAL is not a proposal" >&2; exit 2; }
export BENCH_IKE_PROPOSAL=$ike_proposal
runs=${BENCH_RUNS:-2}
[[ $sizes =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "$prog: BENCH_N wants numbers separated by commas" >&2; exit 2; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "$prog: BENCH_RUNS wants a positive number" >&2; exit 2; }
[[ -z ${BENCH_HA_HEARTBEAT:-} || $BENCH_HA_HEARTBEAT =~ ^[1-9][0-9]{1,4}$ ]] || { echo "$prog: BENCH_HA_HEARTBEAT wants milliseconds (10 or more)" >&2; exit 2; }
for n in ${sizes//,/ }; do
  ((10#$n >= 1 && 10#$n <= 60000)) || { echo "$prog: N must be 1 to 60000 (pool 10.3.0.0/16)" >&2; exit 2; }
done

# shellcheck source=lab/strongswan/swlab.sh
. lab/strongswan/swlab.sh

out= lab= npid=
cleanup() {
  set +e # `set -e` stays active in traps; a failed kill must not skip the netns removal
  trap - EXIT INT TERM HUP
  if [[ -n $npid ]]; then
    kill -TERM "$npid" 2>/dev/null
    wait "$npid" 2>/dev/null
  fi
  [[ -n $lab ]] && teardown "$lab"
  if [[ -n $out ]]; then
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
      echo "$prog: kept run directory $out" >&2
    else
      rm -rf -- "$out"
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# SIGKILL the lab's charons (their orderly shutdown with 1000 SAs only costs time), then let
# swlab_teardown kill what is left in its namespaces and delete them.
teardown() {
  local dir=$1 node
  for node in gw gwb cl; do
    [[ -d $dir/$node ]] && swlab_kill "$dir" "$node"
  done
  swlab_teardown "$dir"
}

out=$(mktemp -d "${TMPDIR:-/tmp}/ipsec-ctx-bench-sw.XXXXXXXX")
chmod 0755 "$out" # charon reads its configs below it
psk=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
results=$out/results.jsonl
: >"$results"

# charon with the load-tester plugin: LD_PRELOAD on charon only (the .so has undefined symbols
# that only charon resolves), and every step before it execs, so $! stays charon's PID.
cat >"$out/charon-load-tester" <<EOF
#!/bin/sh
exec env LD_PRELOAD=$load_tester /usr/lib/ipsec/charon "\$@"
EOF
chmod 0755 "$out/charon-load-tester"

# log_conf NODEDIR: charon's level-1 file log (no keys), flushed per line, and no syslog.
log_conf() {
  cat <<EOF
  filelog {
    charon {
      path = $1/charon.log
      default = 1
      time_format = %T
      time_add_ms = yes
      flush_line = yes
    }
  }
  syslog {
    daemon {
      default = -1
    }
  }
EOF
}

# gateway_conf NODEDIR HA(0|1): a gateway's strongswan.conf. kernel-libipsec before
# kernel-netlink (which still gives kernel-net); dos_protection = no, since every client comes
# from one address; a hash table sized for 1000 IKE SAs; logs at level 1 (no keys).
gateway_conf() {
  local nodedir=$1 ha=$2
  cat <<EOF
swanctl {
  load = random openssl pem pkcs1 x509
}
charon {
  load = random nonce openssl aes sha1 sha2 hmac gmp xcbc kdf pem pkcs1 x509 kernel-libipsec kernel-netlink socket-default vici$( ((ha)) && echo ' ha')
  install_routes = yes
  dos_protection = no
  ikesa_table_size = 1024
  ikesa_table_segments = 16
$(log_conf "$nodedir")
  plugins {$( ((ha)) && printf '\n    ha {\n      local = 127.0.0.1\n      remote = 127.0.0.2%s\n    }' "${BENCH_HA_HEARTBEAT:+
      heartbeat_delay = $BENCH_HA_HEARTBEAT}")
  }
}
EOF
}

# The gateways' road-warrior connection (strongswan-lab.md): PSK, any client identity, a
# virtual IP from 10.3.0.0/16, 10.10.0.0/16 behind the gateway, AES-GCM, BENCH_IKE_PROPOSAL.
gateway_swanctl() {
  cat <<EOF
connections {
  rw {
    local_addrs = 10.0.0.1
    proposals = $ike_proposal
    pools = rw-pool
    local {
      auth = psk
      id = gw.lab
    }
    remote {
      auth = psk
      id = %any
    }
    children {
      net {
        local_ts = 10.10.0.0/16
        esp_proposals = aes128gcm16
      }
    }
  }
}
pools {
  rw-pool {
    addrs = 10.3.0.0/16
  }
}
secrets {
  ike-rw {
    secret = "$psk"
  }
}
EOF
}

# The load-tester client: its fake kernel (before kernel-netlink), one identity
# cK-r1.strongswan.org per initiation, a virtual IP each, TSr 10.10.0.0/16. The N clients stand
# for N machines, so it neither installs the virtual IPs nor routes. Initiations come from its
# control socket ("N 0": N at once), not at start-up.
client_conf() {
  local nodedir=$1
  cat <<EOF
swanctl {
  load = random openssl pem pkcs1 x509
}
charon {
  load = random nonce openssl aes sha1 sha2 hmac gmp xcbc kdf pem pkcs1 x509 load-tester kernel-netlink socket-default vici
  install_routes = no
  install_virtual_ip = no
  ikesa_table_size = 1024
  ikesa_table_segments = 16
$(log_conf "$nodedir")
  plugins {
    load-tester {
      enable = yes
      fake_kernel = yes
      initiators = 0
      iterations = 0
      socket = unix://$nodedir/run/charon.ldt
      initiator = 10.0.0.2
      responder = 10.0.0.1
      proposal = $ike_proposal
      esp = aes128gcm16
      initiator_auth = psk
      responder_auth = psk
      responder_id = gw.lab
      preshared_key = $psk
      request_virtual_ip = yes
      initiator_tsr = 10.10.0.0/16
    }
  }
}
EOF
}

# make_lab NAME WITH_B: namespaces (swlab_setup), then our own configs over its.
make_lab() {
  local name=$1 with_b=$2 node
  lab=$out/$name
  mkdir -p "$lab"
  swlab_setup "$lab" "b$$-$name" $ike_proposal aes128gcm16 1 127.0.0.1 127.0.0.2 "$with_b" "" 2 >"$lab/setup.log" 2>&1 ||
    { echo "$prog: lab setup failed:" >&2; tail -n 20 "$lab/setup.log" >&2; return 1; }
  if ((with_b)); then
    gateway_conf "$lab/gw" 1 >"$lab/gw/strongswan.conf"
    gateway_conf "$lab/gwb" 1 >"$lab/gwb/strongswan.conf"
    gateway_swanctl >"$lab/gwb/swanctl/swanctl.conf"
  else
    gateway_conf "$lab/gw" 0 >"$lab/gw/strongswan.conf"
  fi
  gateway_swanctl >"$lab/gw/swanctl/swanctl.conf"
  client_conf "$lab/cl" >"$lab/cl/strongswan.conf"
  echo 'connections {}' >"$lab/cl/swanctl/swanctl.conf"
  for node in gw gwb cl; do
    [[ -d $lab/$node ]] || continue
    if [[ $node == cl ]]; then
      SWLAB_CHARON=$out/charon-load-tester swlab_start "$lab" "$node" >>"$lab/setup.log" 2>&1 || {
        echo "$prog: charon $node did not start:" >&2
        tail -n 20 "$lab/setup.log" "$lab/$node/charon.log" >&2
        return 1
      }
    else
      swlab_start "$lab" "$node" >>"$lab/setup.log" 2>&1 || {
        echo "$prog: charon $node did not start:" >&2
        tail -n 20 "$lab/setup.log" "$lab/$node/charon.log" >&2
        return 1
      }
    fi
  done
  # The charons are background jobs of this shell: without this, bash reports "Killed" for
  # each at teardown.
  disown -a
  [[ -S $lab/cl/run/charon.ldt ]] || { echo "$prog: the client has no load-tester control socket (is the plugin loaded?)" >&2; tail -n 20 "$lab/cl/charon.log" >&2; return 1; }
}

# measure MODE N RUN: one lab, one measurement, one JSON line; the lab goes away afterwards.
measure() {
  local mode=$1 n=$2 run=$3 status=0
  echo "$prog: N=$n run $run: $mode" >&2
  if ! make_lab "$mode-$n-$run" "$([[ $mode == move ]] && echo 1 || echo 0)"; then
    echo "{\"mode\":\"$mode\",\"n\":$n,\"run\":$run,\"ok\":false,\"error\":\"the lab did not start\"}" >>"$results"
    teardown "$lab"
    lab=
    return 0
  fi
  node dist/bench/strongswan.js "$mode" "$lab" "$n" "$run" >"$lab/result.json" &
  npid=$!
  wait "$npid" || status=$?
  npid=
  teardown "$lab"
  if [[ -s $lab/result.json ]]; then
    cat "$lab/result.json" >>"$results"
  else
    echo "{\"mode\":\"$mode\",\"n\":$n,\"run\":$run,\"ok\":false,\"error\":\"the measurement exited $status without a result\"}" >>"$results"
  fi
  lab=
}

for n in ${sizes//,/ }; do
  for ((run = 1; run <= runs; run++)); do
    measure reestablish "$n" "$run"
    measure move "$n" "$run"
  done
done

node dist/bench/strongswan.js table "$results"
