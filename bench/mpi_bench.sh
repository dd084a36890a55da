#!/usr/bin/env bash
# Distributed lpom on OpenMPI: 1 process vs 2 ranks (mpirun -np 2), one BLAS thread per rank
# (--threads 1, OPENBLAS_NUM_THREADS=1; LPOM with --serial, so the one-process run uses one core
# too), in ROUNDS interleaved rounds; prints the median wall time of each run, the speed-up, the
# accuracy / success rate, and per rank the seconds computing, waiting and communicating
# (LPOM_MPI_STATS). Also measures MPI latency and bandwidth (bench/mpi_pingpong.c) over shared
# memory and over TCP loopback, for the cost model of notebooks-md/06-distributed.md.
#
#   bash bench/mpi_bench.sh                 # ROUNDS=3 DATA=data (MNIST under DATA/mnist)
#   CASES="sgd lpom6 lpom10 surf" bash bench/mpi_bench.sh
#
# Cases (MNIST, --train-limit N images, 1 epoch, batch 100, --test-limit 2000):
#   sgd     data-parallel SGD, 784-300-100-10 (TRAIN_SGD=20000)
#   lpom6   LPOM 784-400-200-100-50-10: layers sync, layers async, data (TRAIN_LPOM=3000)
#   lpom10  LPOM on the balanced 10 x 500 net: layers sync, layers async, data (TRAIN_LPOM)
#   surf    trial-parallel surfing, the paper's generator (bench/make_paper_generator.py), 300 trials
# Results: $OUT/results.tsv (one line per run) and $OUT/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
LPOM=${LPOM:-.build/release/lpom}
DATA=${DATA:-data}
[ -d "$DATA/mnist" ] || { echo "mpi_bench: no MNIST under $DATA (bash data/setup.sh, or DATA=DIR)" >&2; exit 2; }
OUT=${OUT:-runs/mpi-bench}
CASES=${CASES:-"sgd lpom6 lpom10 surf"}
TRAIN_SGD=${TRAIN_SGD:-20000}; TRAIN_LPOM=${TRAIN_LPOM:-3000}; TRIALS=${TRIALS:-300}
mkdir -p "$OUT"
command -v mpirun >/dev/null || { echo "mpi_bench: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)"; exit 1; }
[ -x "$LPOM" ] || swift build -c release --product lpom
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 LPOM_MPI_STATS=1 LPOM_QUIET_PARTITION=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun -q -np 2 --bind-to core -x LPOM_MPI_STATS -x LPOM_QUIET_PARTITION -x OPENBLAS_NUM_THREADS)

echo "== MPI latency and bandwidth (2 ranks; median one-way time and allreduce time)"
mpicc -O2 -o "$OUT/mpi_pingpong" bench/mpi_pingpong.c
for transport in shm tcp; do
    extra=(); [ $transport = tcp ] && extra=(--mca btl self,tcp)
    mpirun -q -np 2 --bind-to core "${extra[@]}" "$OUT/mpi_pingpong" | sed "s/^/$transport /" | tee "$OUT/pingpong-$transport.txt"
done

common=(--data-dir "$DATA" --epochs 1 --batch-size 100 --test-limit 2000 --threads 1 --quiet --json --overwrite)
tenx500=500,500,500,500,500,500,500,500,500,500
RES="$OUT/results.tsv"
: > "$RES"

# run NAME MODE COMMAND…: one timed run; appends "name mode seconds accuracy stats" to results.tsv.
run() {
    local name=$1 mode=$2; shift 2
    local log="$OUT/$name-$mode.log" json="$OUT/$name-$mode.json"
    if ! "$@" > "$json" 2> "$log"; then echo "mpi_bench: $name $mode failed:"; tail -n 3 "$log"; return 0; fi
    python3 - "$name" "$mode" "$json" "$log" >> "$RES" <<'PY'
import json, sys, re
name, mode, jpath, log = sys.argv[1:5]
r = json.loads(open(jpath).read().strip().splitlines()[-1])
acc = r.get("test_accuracy", r.get("success_rate"))
stats = ";".join(m.group(0) for m in re.finditer(r"rank \d+: compute [\d.]+ s, wait [\d.]+ s, communicate [\d.]+ s, sent [\d.]+ MB",
                                                    open(log).read()))
print(f"{name}\t{mode}\t{r['seconds']:.3f}\t{acc}\t{stats}")
PY
    tail -n 1 "$RES"
}

surf_history="$OUT/paper.h5"
if [[ " $CASES " == *" surf "* ]] && [ ! -f "$surf_history" ]; then python3 bench/make_paper_generator.py "$surf_history" 20 4; fi
surf_args=(surf "$surf_history" --trials "$TRIALS" --method surfing --schedule uniform --steps-per-snapshot 25 --steps 100
           --threads 1 --json --quiet --seed 1)

for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round of $ROUNDS"
    for c in $CASES; do
        case $c in
        sgd)
            a=(train --method sgd --layers 300,100 --train-limit "$TRAIN_SGD" "${common[@]}")
            run sgd 1 "$LPOM" "${a[@]}" --history "$OUT/sgd-1.h5"
            run sgd data "${MPIRUN[@]}" "$LPOM" "${a[@]}" --history "$OUT/sgd-data.h5" --parallel data ;;
        lpom6|lpom10)
            layers=400,200,100,50; [ $c = lpom10 ] && layers=$tenx500
            a=(train --method lpom --sweep jacobi --serial --no-lpom-diagnostics --layers $layers --train-limit "$TRAIN_LPOM" "${common[@]}")
            run $c 1 "$LPOM" "${a[@]}" --history "$OUT/$c-1.h5"
            run $c sync "${MPIRUN[@]}" "$LPOM" "${a[@]}" --history "$OUT/$c-sync.h5" --parallel layers --exchange sync
            run $c async "${MPIRUN[@]}" "$LPOM" "${a[@]}" --history "$OUT/$c-async.h5" --parallel layers --exchange async
            run $c data "${MPIRUN[@]}" "$LPOM" "${a[@]}" --history "$OUT/$c-data.h5" --parallel data ;;
        surf)
            run surf 1 "$LPOM" "${surf_args[@]}"
            run surf trials "${MPIRUN[@]}" "$LPOM" "${surf_args[@]}" ;;
        esac
    done
done

python3 - "$RES" <<'PY' | tee "$OUT/summary.txt"
import sys, statistics as st, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
by = collections.defaultdict(list)
for name, mode, sec, acc, stats in rows: by[(name, mode)].append((float(sec), acc, stats))
print(f"{'case':8} {'mode':6} {'median s':>9} {'speed-up':>9} {'accuracy/success':>17}  per-rank compute / wait / communicate (last round)")
for (name, mode), v in by.items():
    med = st.median(s for s, _, _ in v)
    base = st.median(s for s, _, _ in by[(name, "1")]) if (name, "1") in by else float("nan")
    print(f"{name:8} {mode:6} {med:9.2f} {base / med:9.2f} {v[-1][1]:>17}  {v[-1][2]}")
PY
