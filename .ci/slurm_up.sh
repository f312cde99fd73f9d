#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for the launcher tests (tests/test_launch.py): as root,
# installs Debian's slurmctld, slurmd and munge if missing, writes a slurm.conf with this machine's
# hostname, cores and memory (`slurmd -C`), creates the munge key, starts munged, slurmctld and
# slurmd, and waits until `sinfo` shows the node idle. No accounting database (submitit warns).
# Idempotent: a cluster already up is left as it is. Exits non-zero if the node never comes up.
set -euo pipefail
PARTITION=${SLURM_TEST_PARTITION:-debug}
if [ "$(id -u)" != 0 ]; then echo "slurm_up.sh: run as root" >&2; exit 1; fi
if pgrep -x slurmctld >/dev/null && sinfo -h -o %t 2>/dev/null | grep -qx idle; then echo "slurm_up.sh: already up"; exit 0; fi
start=$(date +%s)
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
fi

host=$(hostname -s)
node=$(slurmd -C | head -1)   # NodeName=<host> CPUs=.. Boards=.. ... RealMemory=..
conf=/etc/slurm/slurm.conf
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /etc/munge
cat > "$conf" <<EOF
# Written by .ci/slurm_up.sh: a one-node test cluster.
ClusterName=focusbook
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# A requeued or preempted job comes back at once, and is killed soon after its SIGTERM.
KillWait=5
MinJobAge=600
SchedulerParameters=bf_interval=5
$node State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 0400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- munged
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd

for _ in $(seq 60); do
  state=$(sinfo -h -o %t 2>/dev/null || true)
  if [ "$state" = idle ]; then
    echo "slurm_up.sh: node $host idle in partition $PARTITION after $(( $(date +%s) - start )) s"
    exit 0
  fi
  if [ "$state" = down ] || [ "$state" = "down*" ] || [ "$state" = drain ]; then
    scontrol update NodeName="$host" State=RESUME 2>/dev/null || true
  fi
  sleep 1
done
echo "slurm_up.sh: the node did not become idle (sinfo: ${state:-nothing}); see /var/log/slurm/" >&2
exit 1
