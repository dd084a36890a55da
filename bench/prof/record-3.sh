#!/usr/bin/env bash
# Pause RUNNING nice-19 lpom train/surf jobs (not already in T), profile, always resume.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rec mlp2q $L train --method sgd --dataset mnist --data-dir $D --layers 300,100 --epochs 3 --threads 2 --snapshot-every 0 --history $P/mlp2.h5 --overwrite --quiet --json
rec mlp1q $L train --method sgd --dataset mnist --data-dir $D --layers 300,100 --epochs 2 --threads 1 --snapshot-every 0 --history $P/mlp1.h5 --overwrite --quiet --json
LP="--method lpom --data-dir $D --dataset mnist --epochs 1 --train-limit 20000 --seed 1 --no-lpom-diagnostics --snapshot-every 0 --overwrite --quiet --json"
rec lpom2q $L train $LP --layers 300,100 --threads 2 --history $P/lp.h5
rec lpom1q $L train $LP --layers 300,100 --threads 1 --history $P/lp.h5
G="--generator paper --latent 10 --dataset fashion-mnist --data-dir $D --n-critic 1 --g-lr 1e-3 --d-lr 2e-4 --gp-lambda 0.25 --critic-batchnorm on --snapshot-every 1000 --seed 1 --overwrite --json --quiet"
rec dcgan2q $L train --model dcgan --steps 12 --threads 2 --history $P/g.h5 $G
FREQ=15000 rec bench1q $L bench --threads 1 --repeats 1 --json --quiet
FREQ=15000 rec bench2q $L bench --threads 2 --repeats 1 --json --quiet
kill $wd 2>/dev/null
echo "done $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
