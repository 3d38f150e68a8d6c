# lab/strongswan/swlab.sh: functions shared by with-lab and swlab-ctl (sourced, not run).
#
# A lab directory DIR holds one subdirectory per node (gw, cl), each with:
#   netns            the node's network namespace name
#   strongswan.conf  charon's and swanctl's settings (STRONGSWAN_CONF)
#   swanctl/         swanctl.conf plus the credential directories swanctl expects
#   run/             bind-mounted over /run in charon's private mount namespace, so each charon
#                    has its own charon.pid, charon.vici and charon.ha FIFO
#   charon.log       charon's log (flushed per line)
#   charon.pid       charon's PID, written by swlab_start
#
# How several charons share one host: `ip netns exec NS unshare --mount --propagation private
# sh -c 'mount --bind DIR/run /run && exec env STRONGSWAN_CONF=... charon'`. ip, unshare, sh
# and env all exec, so `$!` is charon's own PID.

SWLAB_CHARON=/usr/lib/ipsec/charon
SWLAB_PSK=ipsec-ctx-lab-psk-0123456789
# "C=CH, O=ipsec-ctx lab, CN=carol" with CN a UTF8String (strongSwan would write a
# PrintableString from that text), and a key ID that prints like an FQDN.
SWLAB_DN_ID="asn1dn:#3035310b300906035504061302434831163014060355040a130d69707365632d637478206c6162310e300c06035504030c056361726f6c"
SWLAB_KEY_ID="keyid:#636c322d6b6579"


# swlab_setup DIR ID IKE_PROPOSAL ESP_PROPOSAL HA(0|1) HA_LOCAL HA_REMOTE [WITH_B(0|1) [CLIENT_DPD [CLIENTS]]]
#
# WITH_B=1 adds a second gateway, namespace gwb, configured like gw (same connection, pool,
# protected address 10.10.1.1 on lo, ha plugin with the same local/remote on its own
# loopback) but without 10.0.0.1: its veth has 10.0.0.3 until `swlab-ctl move` moves 10.0.0.1
# from gw to it. The client then sits on a bridge br0 joining both gateways' links.
# CLIENT_DPD (e.g. 2s) sets the client's dpd_delay. CLIENTS > 1 gives the client charon that
# many connections rw1..rwN (one virtual IP each, CHILD `net`; identities cl3.lab..clN.lab,
# and for rw1 a distinguished name whose CN is a UTF8String and for rw2 a key ID, the two
# identities whose printed text is not exact, SWLAB_DN_ID and SWLAB_KEY_ID),
# all to the gateways' one `rw` connection, and the gateways dos_protection = no (every IKE SA
# comes from the one client address, so more than 5 half-open ones would trigger cookies).
swlab_setup() {
  local dir=$1 id=$2 ike=$3 esp=$4 ha=$5 ha_local=$6 ha_remote=$7 with_b=${8:-0} dpd=${9:-} clients=${10:-1}
  local gwns=swlab-$id-gw clns=swlab-$id-cl gwbns=swlab-$id-gwb node
  local nodes=(gw cl)
  ((with_b)) && nodes+=(gwb)
  for node in "${nodes[@]}"; do
    mkdir -p "$dir/$node/run" "$dir/$node/swanctl"
    (cd "$dir/$node/swanctl" && mkdir -p x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12)
  done
  # Record each name before creating it, so a half-done setup is still torn down.
  echo "$gwns" >"$dir/gw/netns"
  ip netns add "$gwns"
  echo "$clns" >"$dir/cl/netns"
  ip netns add "$clns"
  ip link add vgw netns "$gwns" type veth peer name vcl netns "$clns"
  ip -n "$gwns" link set lo up
  ip -n "$clns" link set lo up
  ip -n "$gwns" addr add 10.0.0.1/24 dev vgw
  ip -n "$gwns" link set vgw up
  if ((with_b)); then
    echo "$gwbns" >"$dir/gwb/netns"
    ip netns add "$gwbns"
    ip link add vgwb netns "$gwbns" type veth peer name vclb netns "$clns"
    ip -n "$clns" link add br0 type bridge
    ip -n "$clns" link set vcl master br0
    ip -n "$clns" link set vclb master br0
    ip -n "$clns" addr add 10.0.0.2/24 dev br0
    ip -n "$clns" link set vcl up
    ip -n "$clns" link set vclb up
    ip -n "$clns" link set br0 up
    ip -n "$gwbns" link set lo up
    ip -n "$gwbns" addr add 10.0.0.3/24 dev vgwb
    ip -n "$gwbns" link set vgwb up
    ip -n "$gwbns" addr add 10.10.1.1/32 dev lo
    if [[ $ha_local != 127.* ]]; then ip -n "$gwbns" addr add "$ha_local" dev lo; fi
    if [[ $ha_remote != 127.* ]]; then ip -n "$gwbns" addr add "$ha_remote" dev lo; fi
  else
    ip -n "$clns" addr add 10.0.0.2/24 dev vcl
    ip -n "$clns" link set vcl up
  fi
  ip -n "$gwns" addr add 10.10.1.1/32 dev lo
  if [[ $ha_local != 127.* ]]; then ip -n "$gwns" addr add "$ha_local" dev lo; fi
  if [[ $ha_remote != 127.* ]]; then ip -n "$gwns" addr add "$ha_remote" dev lo; fi

  local haconf=
  if ((ha)); then
    # No `secret`: that would make charon protect the channel with its own IPsec SA, and the
    # peer would need an IKE daemon. The channel stays on this namespace's loopback.
    haconf="    ha {
      local = $ha_local
      remote = $ha_remote
    }"
  fi
  local gwextra=
  ((clients > 1)) && gwextra="  dos_protection = no
  ikesa_table_size = 64"
  swlab_strongswan_conf "$dir/gw" "$( ((ha)) && echo ha)" "$haconf" "$gwextra" >"$dir/gw/strongswan.conf"
  # Each parallel `swanctl --initiate` holds one of charon's threads until its SA is up:
  # with the default 16, ten of them starve the threads that would process the replies.
  local clextra=
  ((clients > 1)) && clextra="  threads = 64"
  swlab_strongswan_conf "$dir/cl" "" "" "$clextra" >"$dir/cl/strongswan.conf"
  if ((with_b)); then
    swlab_strongswan_conf "$dir/gwb" "$( ((ha)) && echo ha)" "$haconf" "$gwextra" >"$dir/gwb/strongswan.conf"
  fi

  cat >"$dir/gw/swanctl/swanctl.conf" <<EOF
connections {
  rw {
    local_addrs = 10.0.0.1
    proposals = $ike
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
        local_ts = 10.10.1.0/24
        esp_proposals = $esp
      }
    }
  }
}
pools {
  rw-pool {
    addrs = 10.3.0.0/24
  }
}
secrets {
  ike-rw {
    secret = "$SWLAB_PSK"
  }
}
EOF
  ((with_b)) && cp "$dir/gw/swanctl/swanctl.conf" "$dir/gwb/swanctl/swanctl.conf"
  # One client: connection rw, identity cl.lab; N clients: rw1..rwN, cl1.lab..clN.lab.
  local conns=(rw:cl.lab) i
  if ((clients > 1)); then
    conns=()
    conns=("rw1:$SWLAB_DN_ID" "rw2:$SWLAB_KEY_ID")
    for ((i = 3; i <= clients; i++)); do conns+=("rw$i:cl$i.lab"); done
  fi
  swlab_clients_conf "$ike" "$esp" "$dpd" "${conns[@]}" >"$dir/cl/swanctl/swanctl.conf"
}

# swlab_clients_conf IKE ESP DPD NAME:ID...: the client's swanctl.conf, one connection NAME
# with identity ID per argument, all to the gateway's one `rw` connection.
swlab_clients_conf() {
  local ike=$1 esp=$2 dpd=$3 conn
  shift 3
  echo "connections {"
  for conn in "$@"; do
    cat <<EOF
  ${conn%%:*} {
    local_addrs = 10.0.0.2
    remote_addrs = 10.0.0.1
    vips = 0.0.0.0
    proposals = $ike${dpd:+
    dpd_delay = $dpd}
    local {
      auth = psk
      id = "${conn#*:}"
    }
    remote {
      auth = psk
      id = gw.lab
    }
    children {
      net {
        remote_ts = 10.10.1.0/24
        esp_proposals = $esp
      }
    }
  }
EOF
  done
  cat <<EOF
}
secrets {
  ike-rw {
    secret = "$SWLAB_PSK"
  }
}
EOF
}

# swlab_strongswan_conf NODEDIR EXTRA_PLUGINS PLUGIN_SETTINGS [CHARON_SETTINGS]
swlab_strongswan_conf() {
  local nodedir=$1 extra=$2 settings=$3 charon_settings=${4:-}
  # kdf must be listed (5.9.8 needs it for KDF_PRF); kernel-libipsec must come before
  # kernel-netlink, which still provides the kernel-net part (addresses, routes). With
  # SWLAB_KERNEL=netlink (with-lab --kernel netlink) kernel-netlink installs the ESP SAs too.
  local ipsec=kernel-libipsec
  [[ ${SWLAB_KERNEL:-libipsec} == netlink ]] && ipsec=
  cat <<EOF
swanctl {
  load = random openssl pem pkcs1 x509
}
charon {
  load = random nonce openssl aes sha1 sha2 hmac gmp xcbc kdf pem pkcs1 x509 $ipsec kernel-netlink socket-default vici $extra
  install_routes = yes
  retransmit_tries = 3
$charon_settings
  filelog {
    charon {
      path = $nodedir/charon.log
      default = 1
      ike = 4
      chd = 4
      knl = 4
      cfg = 2
      net = 1
      time_format = %T
      time_add_ms = yes
      ike_name = yes
      flush_line = yes
    }
  }
  syslog {
    daemon {
      default = -1
    }
  }
  plugins {
$settings
  }
}
EOF
}

swlab_pid_is_charon() {
  local pid=$1 comm
  [[ -n $pid && -r /proc/$pid/comm ]] || return 1
  read -r comm <"/proc/$pid/comm" || return 1
  [[ $comm == charon ]]
}

# swlab_start DIR NODE: start the node's charon, wait for vici (10 s), load swanctl.conf.
swlab_start() {
  local dir=$1 node=$2 nodedir=$1/$2 ns pid i
  ns=$(<"$nodedir/netns")
  if [[ -f $nodedir/charon.pid ]] && swlab_pid_is_charon "$(<"$nodedir/charon.pid")"; then
    echo "charon $node is already running" >&2
    return 1
  fi
  rm -f "$nodedir/run/charon.vici"
  ip netns exec "$ns" unshare --mount --propagation private \
    sh -c 'mount --bind "$1/run" /run && exec env STRONGSWAN_CONF="$1/strongswan.conf" "$2"' \
    sh "$nodedir" "$(swlab_prefix "$nodedir" "$SWLAB_CHARON" libexec/ipsec/charon)" </dev/null >>"$nodedir/charon.stdout" 2>&1 &
  pid=$!
  echo "$pid" >"$nodedir/charon.pid"
  for ((i = 0; i < 200; i++)); do
    [[ -S $nodedir/run/charon.vici ]] && break
    kill -0 "$pid" 2>/dev/null || { echo "charon $node exited during start-up" >&2; return 1; }
    sleep 0.05
  done
  [[ -S $nodedir/run/charon.vici ]] || { echo "charon $node: no vici socket after 10 s" >&2; return 1; }
  swlab_swanctl "$dir" "$node" --load-all --noprompt --file "$nodedir/swanctl/swanctl.conf" >/dev/null
}

# swlab_swanctl DIR NODE ARGS...: swanctl against the node's charon.
swlab_swanctl() {
  local nodedir=$1/$2
  shift 2
  STRONGSWAN_CONF=$nodedir/strongswan.conf "$(swlab_prefix "$nodedir" swanctl sbin/swanctl)" "$@" --uri "unix://$nodedir/run/charon.vici"
}

# swlab_prefix NODEDIR DEFAULT PATH: DEFAULT (Debian's), or PREFIX/PATH when the node runs the
# strongSwan installed under PREFIX (swlab_use_prefix).
swlab_prefix() {
  if [[ -f $1/charon-prefix ]]; then echo "$(<"$1/charon-prefix")/$3"; else echo "$2"; fi
}

# swlab_use_prefix DIR NODE PREFIX: NODE runs PREFIX/libexec/ipsec/charon and PREFIX/sbin/swanctl
# (e.g. lab/strongswan/build-charon6's 6.0.1) instead of Debian's. Its strongswan.conf keeps
# only the plugins that PREFIX has (a minimal build lacks aes, sha2, pem, x509 and others, which
# openssl covers), plus ml and sha3 (ML-KEM) where PREFIX has them. Call after swlab_setup,
# before the node starts.
swlab_use_prefix() {
  local nodedir=$1/$2 prefix=$3 line name kept
  echo "$prefix" >"$nodedir/charon-prefix"
  while IFS= read -r line; do
    if [[ $line =~ ^(\ *load\ =\ )(.*)$ ]]; then
      kept=
      for name in ${BASH_REMATCH[2]} sha3 ml; do
        [[ -e $prefix/lib/ipsec/plugins/libstrongswan-$name.so ]] && kept+=" $name"
      done
      line=${BASH_REMATCH[1]}${kept# }
    fi
    printf '%s\n' "$line"
  done <"$nodedir/strongswan.conf" >"$nodedir/strongswan.conf.new"
  mv "$nodedir/strongswan.conf.new" "$nodedir/strongswan.conf"
}

# swlab_signal DIR NODE SIGNAL: send SIGNAL to charon, wait up to 5 s for it to go, then
# SIGKILL it if it is still there.
swlab_signal() {
  local nodedir=$1/$2 signal=$3 pid i
  [[ -f $nodedir/charon.pid ]] || return 0
  pid=$(<"$nodedir/charon.pid")
  if swlab_pid_is_charon "$pid"; then
    kill -"$signal" "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
      swlab_pid_is_charon "$pid" || break
      sleep 0.05
    done
    swlab_pid_is_charon "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$nodedir/charon.pid"
  return 0
}

# swlab_kill DIR NODE: SIGKILL charon at once (a gateway that fails: no HA drop, no IKE DELETE).
swlab_kill() { swlab_signal "$1" "$2" KILL; }

# swlab_stop DIR NODE: SIGTERM charon, wait up to 5 s, then SIGKILL.
swlab_stop() { swlab_signal "$1" "$2" TERM; }

# swlab_teardown DIR: stop every charon, kill whatever else still runs in the lab's namespaces
# (they are ours alone), delete the namespaces. Never fails.
swlab_teardown() {
  local dir=$1 node ns pids i
  for node in gw gwb cl; do
    [[ -d $dir/$node ]] && swlab_stop "$dir" "$node"
  done
  for node in gw gwb cl; do
    [[ -f $dir/$node/netns ]] || continue
    ns=$(<"$dir/$node/netns")
    ip netns list 2>/dev/null | grep -qw -- "$ns" || continue
    for ((i = 0; i < 20; i++)); do
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      [[ -z $pids ]] && break
      # shellcheck disable=SC2086
      kill -TERM $pids 2>/dev/null
      sleep 0.1
    done
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [[ -n $pids ]] && kill -KILL $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  return 0
}
