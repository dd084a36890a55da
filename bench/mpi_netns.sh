#!/usr/bin/env bash
# Two "hosts" on one machine: Linux network namespaces joined by a veth pair (addresses only
# inside the namespaces), OpenMPI over TCP between them, one rank in each. Runs data-parallel SGD
# and layer-parallel LPOM (sync) across the two namespaces and the same runs with 2 ranks on one
# host (shared memory), and compares the final parameters. Needs root (ip netns); deletes the
# namespaces on exit.
#
#   bash bench/mpi_netns.sh            # LPOM=.build/release/lpom DATA=data/fixtures/tiny
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LPOM=${LPOM:-$ROOT/.build/release/lpom}
DATA=${DATA:-$ROOT/data/fixtures/tiny}
OUT=${OUT:-$ROOT/runs/mpi-netns}
NS1=lpom-host-a NS2=lpom-host-b SUB=10.77.0
mkdir -p "$OUT"
[ "$(id -u)" -eq 0 ] || { echo "mpi_netns: needs root (ip netns)"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 LPOM_QUIET_PARTITION=1

cleanup() { ip netns del $NS1 2>/dev/null || true; ip netns del $NS2 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add $NS1
ip netns add $NS2
ip link add lpom-veth-a type veth peer name lpom-veth-b
ip link set lpom-veth-a netns $NS1
ip link set lpom-veth-b netns $NS2
ip -n $NS1 addr add $SUB.1/24 dev lpom-veth-a
ip -n $NS2 addr add $SUB.2/24 dev lpom-veth-b
for ns in $NS1 $NS2; do ip -n $ns link set lo up; done
ip -n $NS1 link set lpom-veth-a up
ip -n $NS2 link set lpom-veth-b up

# mpirun's "ssh": run the command inside the namespace of the host it names.
AGENT="$OUT/netns-agent.sh"
cat > "$AGENT" <<EOF
#!/bin/sh
host=\$1; shift
case "\$host" in $SUB.1) ns=$NS1 ;; $SUB.2) ns=$NS2 ;; *) echo "netns-agent: unknown host \$host" >&2; exit 1 ;; esac
exec ip netns exec \$ns /bin/sh -c "\$*"
EOF
chmod +x "$AGENT"

two_hosts=(ip netns exec $NS1 mpirun -q -np 2 -H $SUB.1,$SUB.2 --bind-to none --mca plm_rsh_agent "$AGENT"
           --mca btl self,tcp --mca btl_tcp_if_include $SUB.0/24 --mca oob_tcp_if_include $SUB.0/24
           -x OPENBLAS_NUM_THREADS -x LPOM_QUIET_PARTITION -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM)
one_host=(mpirun -q -np 2 --bind-to none)

echo "== where the ranks run (hostname and network namespace of each)"
"${two_hosts[@]}" /bin/sh -c 'echo "rank $OMPI_COMM_WORLD_RANK: $(ip -brief addr show | grep -o "10\.77\.0\.[0-9]*" || echo none)"'

common=(--data-dir "$DATA" --batch-size 20 --epochs 2 --snapshot-every 10 --threads 1 --quiet --json --overwrite)
for run in "sgd:--method sgd --layers 32:--parallel data" "lpom:--method lpom --sweep jacobi --layers 32,16:--parallel layers --exchange sync"; do
    IFS=: read -r name method mode <<< "$run"
    # shellcheck disable=SC2086
    "${two_hosts[@]}" "$LPOM" train $method "${common[@]}" $mode --history "$OUT/$name-two-hosts.h5" > "$OUT/$name-two-hosts.json"
    # shellcheck disable=SC2086
    "${one_host[@]}" "$LPOM" train $method "${common[@]}" $mode --history "$OUT/$name-one-host.h5" > "$OUT/$name-one-host.json"
    python3 - "$OUT/$name-two-hosts.h5" "$OUT/$name-one-host.h5" "$name" <<'PY'
import sys, json, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
d = max(float(np.abs(a["theta"][k][-1] - b["theta"][k][-1]).max()) for k in a["theta"])
prov = json.loads(a.attrs["training"])["provenance"][0]
print(f"{sys.argv[3]}: two namespaces (TCP over veth) vs one host (shared memory): max |Δθ| = {d:.2e}, "
      f"{len(a['snapshot_step'])} snapshots, ranks {prov.get('ranks')}, parallel {prov.get('parallel')}")
PY
done
