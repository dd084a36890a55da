#!/usr/bin/env bash
# Extra LPOM-vs-SGD runs of notebooks-md/01-lpom-vs-sgd-mnist.md: a deep sigmoid network
# (10 hidden layers of 100) on MNIST, and 300-100 on Fashion-MNIST. One line per run: the
# validation accuracy per epoch (last 10,000 training images, --validation 10000), then the test
# accuracy, evaluated once after the last epoch.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
L=.build/release/lpom
E="${EPOCHS:-5}"
deep=100,100,100,100,100,100,100,100,100,100
run() { # tag, then lpom train options; ONLY=regex limits the runs by tag
  local tag=$1; shift
  [[ "$tag" =~ ${ONLY:-.} ]] || return 0
  $L train "$@" --epochs "$E" --threads 1 --snapshot-every 600 --validation 10000 --history "runs/extra/$tag.h5" --overwrite --quiet --json \
    | python3 -c "import json,sys; d=json.load(sys.stdin); print('$tag val', ' '.join('%.2f' % (100*r['val_accuracy']) for r in d['curve']), '| test %.2f | %.1f s' % (100*d['test_accuracy'], d['seconds']))"
}
mkdir -p runs/extra
for act in sigmoid tanh; do
  run "sgd-deep-$act" --method sgd --layers $deep --activation $act
  run "lpom-deep-$act" --method lpom --layers $deep --activation $act
done
run sgd-fashion-300-100 --method sgd --dataset fashion-mnist --layers 300,100
run lpom-fashion-300-100 --method lpom --dataset fashion-mnist --layers 300,100
