#!/bin/bash
# Entrypoint of a Berth node container (PID 2, under catatonit): makes cgroups writable, prepares the
# kernel settings pod networking needs, starts containerd, imports the built-in images (pause) and
# prints "berth-node: containerd ready". Then it runs its arguments (the node agent) if any, and
# otherwise waits on containerd. SIGTERM stops both.
set -uo pipefail

log() { echo "berth-node: $*"; }
warn() { echo "berth-node: warning: $*" >&2; }

# --- cgroups ---------------------------------------------------------------------------------------
# Without --privileged Docker mounts the cgroup hierarchies read-only. With a private cgroup namespace
# mounting them again gives writable hierarchies rooted at this container's cgroup.
setup_cgroups() {
  local fstype
  fstype=$(stat -fc %T /sys/fs/cgroup 2>/dev/null || echo none)
  if [ "$fstype" = cgroup2fs ]; then
    if ! touch /sys/fs/cgroup/.berth-rw 2>/dev/null; then
      umount /sys/fs/cgroup 2>/dev/null || true
      mount -t cgroup2 -o rw,nosuid,nodev,noexec cgroup2 /sys/fs/cgroup || { warn "cannot mount cgroup2 rw"; return; }
    fi
    rm -f /sys/fs/cgroup/.berth-rw
    # No-internal-processes rule: move everything into a leaf, then delegate every controller.
    mkdir -p /sys/fs/cgroup/init.scope
    local pid
    while read -r pid; do echo "$pid" >/sys/fs/cgroup/init.scope/cgroup.procs 2>/dev/null || true; done \
      </sys/fs/cgroup/cgroup.procs
    local c
    for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
      echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || warn "cannot delegate cgroup controller $c"
    done
    log "cgroup v2 writable"
    return
  fi
  # cgroup v1: remount each hierarchy read-write with its own super options (controllers, name=).
  local line mp rest opts n=0
  while IFS= read -r line; do
    rest=${line#* - }
    set -- $rest
    [ "${1:-}" = cgroup ] || continue
    opts=$(echo "${3:-}" | tr ',' '\n' | grep -vx -e ro -e rw | paste -sd, -)
    set -- $line
    mp=$5
    umount "$mp" 2>/dev/null || { warn "cannot unmount $mp"; continue; }
    mount -t cgroup -o "rw,nosuid,nodev,noexec,relatime,$opts" cgroup "$mp" || warn "cannot mount cgroup $opts on $mp"
    n=$((n + 1))
  done < <(grep ' - cgroup ' /proc/self/mountinfo)
  log "cgroup v1: $n hierarchies writable"
}

# --- kernel settings --------------------------------------------------------------------------------
setup_kernel() {
  # Volumes with mount propagation need a shared root.
  mount --make-rshared / 2>/dev/null || warn "cannot make / rshared"
  if ! echo 1 >/proc/sys/net/ipv4/ip_forward 2>/dev/null; then
    mount -o remount,rw /proc/sys 2>/dev/null && echo 1 >/proc/sys/net/ipv4/ip_forward 2>/dev/null \
      || warn "cannot enable net.ipv4.ip_forward"
  fi
  echo 1 >/proc/sys/net/ipv4/conf/all/route_localnet 2>/dev/null || true
  # Lowering oom_score_adj needs CAP_SYS_RESOURCE; without it, pods keep containerd's score or higher.
  local capbnd
  capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
  if [ $(( 0x$capbnd >> 24 & 1 )) = 0 ]; then
    sed -i 's/^\(\s*restrict_oom_score_adj\s*=\s*\).*/\1true/' /etc/containerd/config.toml
    log "no CAP_SYS_RESOURCE: restrict_oom_score_adj = true"
  fi
}

# --- containerd -------------------------------------------------------------------------------------
containerd_pid=
child_pid=
stop_all() {
  log "stopping"
  [ -n "$child_pid" ] && kill -TERM "$child_pid" 2>/dev/null
  [ -n "$containerd_pid" ] && kill -TERM "$containerd_pid" 2>/dev/null
  wait 2>/dev/null
  exit 0
}
trap stop_all TERM INT

start_containerd() {
  mkdir -p /var/log/berth /run/containerd
  containerd --config /etc/containerd/config.toml >>/var/log/berth/containerd.log 2>&1 &
  containerd_pid=$!
  local i
  for i in $(seq 1 600); do
    if [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1; then return 0; fi
    kill -0 "$containerd_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "berth-node: containerd did not start; last log lines:" >&2
  tail -n 30 /var/log/berth/containerd.log >&2
  exit 1
}

import_images() {
  local have tar name
  have=$(ctr -n k8s.io images ls -q 2>/dev/null)
  for tar in /usr/share/berth/images/*.tar; do
    [ -e "$tar" ] || continue
    name=$(grep -o '"io.containerd.image.name":"[^"]*"' <(tar -xOf "$tar" index.json) | cut -d'"' -f4)
    if [ -n "$name" ] && grep -qxF "$name" <<<"$have"; then continue; fi
    ctr -n k8s.io images import --no-unpack=false "$tar" >/dev/null || { echo "berth-node: cannot import $tar" >&2; exit 1; }
    # Pinned images are never garbage-collected by the kubelet's image GC.
    [ -n "$name" ] && ctr -n k8s.io images label "$name" io.cri-containerd.pinned=pinned >/dev/null 2>&1
  done
}

setup_cgroups
setup_kernel
start_containerd
import_images
log "containerd ready"

if [ $# -gt 0 ]; then
  # The agent (Node.js) idles with little to do: one malloc arena instead of one per thread (V8 and
  # libuv workers) keeps ~5 MiB less resident (docs/benchmarks.md, idle RSS).
  MALLOC_ARENA_MAX=1 "$@" &
  child_pid=$!
  wait -n "$containerd_pid" "$child_pid"
  code=$?
  log "exited ($code); stopping"
  stop_all
fi
wait "$containerd_pid"
code=$?
log "containerd exited ($code)"
exit "$code"
