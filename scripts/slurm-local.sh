#!/bin/sh
# A single-node Slurm cluster on this machine, from Debian's packages, for the sweep tests and
# for trying `mlp-train sweep --slurm` without a cluster (root only: it installs and runs daemons).
#
# usage: scripts/slurm-local.sh start|stop|status
#   start   install slurm-wlm and munge when missing (apt-get, --no-install-recommends, with a
#           policy-rc.d so the packages start nothing), write a private slurm.conf, start munged
#           (unless one already answers), slurmctld and slurmd, and wait until the node is idle
#           and the scheduler has made its first pass; prints the SLURM_CONF line to export
#   stop    stop only the daemons that start started, by their PID files
#   status  exit 0 and print SLURM_CONF=... when the cluster answers, else exit 1
# SLURM_LOCAL_DIR is the folder for the config, state, logs and PID files
# (default /tmp/mlp-train-slurm). The cluster: node `hostname -s` at 127.0.0.1 with
# proctrack/linuxproc, task/none, no accounting, SlurmUser=root, batch_sched_delay=0.
set -eu

dir=${SLURM_LOCAL_DIR:-/tmp/mlp-train-slurm}
conf=$dir/slurm.conf
host=$(hostname -s)

say() { echo "slurm-local.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# apt-get install, tolerant of a busy dpkg lock and a stale package list (one update, then retry).
install_missing() {
    missing=""
    command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 \
        && command -v sbatch >/dev/null 2>&1 || missing="slurm-wlm"
    command -v munged >/dev/null 2>&1 || missing="$missing munge"
    [ -n "$missing" ] || return 0
    [ "$(id -u)" -eq 0 ] || die "installing$missing needs root (or install them yourself)"
    say "installing${missing# }"
    policy=/usr/sbin/policy-rc.d
    made_policy=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# slurm-local.sh: keep package scripts from starting daemons\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    if ! apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 $missing >"$dir/apt.log" 2>&1; then
        apt-get update -q -o DPkg::Lock::Timeout=120 >>"$dir/apt.log" 2>&1 || true
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 $missing >>"$dir/apt.log" 2>&1 \
            || { [ -z "$made_policy" ] || rm -f "$policy"; die "apt-get install$missing failed (see $dir/apt.log)"; }
    fi
    [ -z "$made_policy" ] || rm -f "$policy"
}

# A PID file names a live process (also when another user, root, runs it).
alive() { [ -s "$1" ] && [ -d "/proc/$(cat "$1")" ]; }

munge_answers() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    if munge_answers; then return 0; fi
    [ -s /etc/munge/munge.key ] || {
        if command -v mungekey >/dev/null 2>&1; then mungekey --create --keyfile=/etc/munge/munge.key
        else dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
        fi
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    }
    # Without systemd nobody creates the socket folder; munged refuses to run as root.
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    chmod 755 /run/munge
    runuser -u munge -- munged --pid-file=/run/munge/munged.pid
    cp /run/munge/munged.pid "$dir/munged.pid"
    i=0
    until munge_answers; do
        i=$((i + 1)); [ $i -lt 50 ] || die "munged does not answer"; sleep 0.1
    done
}

write_conf() {
    # What slurmd sees (CPUs, sockets, cores, threads, memory), memory lowered a little so
    # the node is not drained for having less than configured.
    node=$(slurmd -C | sed -n 's/^\(NodeName=[^ ]*\) \(.*\)$/\2/p' | sed 's/ *UpTime=.*//')
    [ -n "$node" ] || die "slurmd -C printed no NodeName line"
    mem=$(echo "$node" | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    node=$(echo "$node" | sed "s/RealMemory=[0-9]*/RealMemory=$((mem * 9 / 10))/")
    cat >"$conf" <<EOF
# Written by scripts/slurm-local.sh: a single-node cluster for tests.
ClusterName=mlptrain
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$host NodeAddr=127.0.0.1 $node State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

status() {
    [ -f "$conf" ] && alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" \
        && SLURM_CONF=$conf sinfo -h >/dev/null 2>&1
}

start() {
    if status; then say "already running"; echo "export SLURM_CONF=$conf"; return 0; fi
    [ "$(id -u)" -eq 0 ] || die "start needs root (SlurmUser=root, daemons)"
    mkdir -p "$dir"
    install_missing
    start_munge
    rm -rf "$dir/state" "$dir/spool"
    mkdir -p "$dir/state" "$dir/spool"
    : >"$dir/slurmctld.log"
    write_conf
    export SLURM_CONF="$conf"
    slurmctld -i || die "slurmctld did not start (see $dir/slurmctld.log)"
    slurmd || die "slurmd did not start (see $dir/slurmd.log)"
    # Ready: the node is idle and the scheduler has logged its parameters (its first pass,
    # about 3 s after the start; a job submitted before waits for it anyway).
    i=0
    until sinfo -h -n "$host" -o %t 2>/dev/null | grep -qx idle \
        && grep -q 'SchedulerParameters=' "$dir/slurmctld.log"; do
        i=$((i + 1))
        [ $i -lt 300 ] || die "cluster not ready after 30 s (see $dir/slurmctld.log, $dir/slurmd.log)"
        sleep 0.1
    done
    say "up: node $host idle ($i tenths of a second)"
    echo "export SLURM_CONF=$conf"
}

stop_one() {
    pidfile=$1
    alive "$pidfile" || { rm -f "$pidfile"; return 0; }
    pid=$(cat "$pidfile")
    kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 100 ] || { kill -9 "$pid" 2>/dev/null || true; break; }
        sleep 0.1
    done
    rm -f "$pidfile"
}

stop() {
    stop_one "$dir/slurmd.pid"
    stop_one "$dir/slurmctld.pid"
    # munged only if start started it (its PID file was copied here).
    stop_one "$dir/munged.pid"
    say "stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if status; then echo "SLURM_CONF=$conf"; else exit 1; fi ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "usage: scripts/slurm-local.sh start|stop|status (see --help)" ;;
esac
