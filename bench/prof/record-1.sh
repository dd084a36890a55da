#!/usr/bin/env bash
# Pause RUNNING nice-19 lpom train/surf jobs (not already in T), profile, always resume.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# 1 MLP
rec mlp2 $L train --method sgd --dataset mnist --data-dir $D --layers 300,100 --epochs 3 --threads 2 --snapshot-every 0 --history $P/mlp2.h5 --overwrite --quiet --json
rec mlp1 $L train --method sgd --dataset mnist --data-dir $D --layers 300,100 --epochs 2 --threads 1 --snapshot-every 0 --history $P/mlp1.h5 --overwrite --quiet --json
# 5 snapshots
rec snap2 $L train --method sgd --dataset mnist --data-dir $D --layers 300,100 --epochs 3 --threads 2 --snapshot-every 40 --history $P/snap2.h5 --overwrite --quiet --json
rec snap1 $L train --method sgd --dataset mnist --data-dir $D --layers 300,100 --epochs 2 --threads 1 --snapshot-every 40 --history $P/snap1.h5 --overwrite --quiet --json
echo "== bench start load $(cut -d' ' -f1-3 /proc/loadavg)"; $L bench --threads 1,2 --repeats 1 --json --quiet > $P/bench.json; cat $P/bench.json; echo
for s in 0 40; do perf stat -e task-clock,page-faults,context-switches -o $P/stat_s$s.txt -- $L train --method sgd --dataset mnist --data-dir $D --layers 300,100 --epochs 2 --threads 1 --snapshot-every $s --history $P/st$s.h5 --overwrite --quiet --json > /dev/null; done
# 2 surf, 1 thread
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 rec surf1 $L surf runs/surf-bench/paper.h5 --trials 300 --method surfing --schedule uniform --steps-per-snapshot 5 --steps 5 --tolerance 1e-12 --threads 1 --json --quiet
# 3 GAN, 1 and 2 threads
G="--generator paper --latent 10 --dataset fashion-mnist --data-dir $D --n-critic 1 --g-lr 1e-3 --d-lr 2e-4 --gp-lambda 0.25 --critic-batchnorm on --snapshot-every 1000 --seed 1 --overwrite --json --quiet"
rec dcgan1 $L train --model dcgan --steps 12 --threads 1 --history $P/g.h5 $G
rec wgan1 $L train --model wgan-gp --gp-style per-sample --steps 8 --threads 1 --history $P/g.h5 $G
rec dcgan2 $L train --model dcgan --steps 12 --threads 2 --history $P/g.h5 $G
# 4 LPOM
LP="--method lpom --data-dir $D --dataset mnist --epochs 1 --train-limit 20000 --seed 1 --no-lpom-diagnostics --snapshot-every 0 --overwrite --quiet --json"
rec lpom1 $L train $LP --layers 300,100 --threads 1 --history $P/lp.h5
rec lpom2 $L train $LP --layers 300,100 --threads 2 --history $P/lp.h5
rec lpomdeep1 $L train $LP --layers 400,200,100,50 --threads 1 --history $P/lp.h5
kill $wd 2>/dev/null
echo "done $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
