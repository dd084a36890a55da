#!/usr/bin/env bash
# Table 1 of Song, Fan, Lafferty (NeurIPS 2019) under the authors' released protocol
# (github jdlafferty/surfing, codes/Fashion-MNIST/<MODEL>/), resumable: every finished piece is
# skipped on the next run, so the script can be killed and restarted at will.
#
#   bash scripts/surf_sweep.sh start    (copies the binary and these scripts to runs/paper/bin and
#                                        starts $STREAMS copies of this script: status, stop)
#   (a copy of the binary and of this script run, so rebuilding or editing never disturbs it)
#
# Streams. Several copies of this script may run at once (STREAM=1, 2, …): each walks the order
# below and takes the first unit (a generator, or one surf run) that is not done, not failed and
# not held by another copy (flock on $GEN/NAME.lock, $OUT/CELL-TAG.lock), skipping the units that
# wait for one held elsewhere; a copy walks the order again until a whole walk finds nothing to do
# and nothing held; each walk first takes only the units whose generator is at hand, and a stream
# trains no generator while another trains one ("Generators at hand first", below). Two streams of one worker each do more per CPU second than one stream of two
# workers, because every product pays for packing the layer's weights once per call whatever its
# rows (OpenBLAS), and a run's tail of still-failing trials has few rows: measured on the DCGAN
# k = 5 generator (2026-12-04, sweep paused, two runs each way), two runs of 18 trials one after
# the other on two workers took 1.43× the time of the same two runs at once on one worker each,
# 1.22× for 36 trials, 1.06× for 150, 1.02× for 300 (process start-up subtracted).
#   python3 scripts/surf_paper_summary.py notebooks-md/03-results      # the tables
#
# Order (one answer to each question before a second answer to any; changed 2026-12-05 from
# "all 12 cells first"; changed again on 2026-12-05 10:40, when a new machine had lost every
# generator and kept checkpoint): the cells of Table 1 at k = 5 and 10 (generator seed 1, done);
# random restarts (Bora et al.; surfing's mean total steps shared by 10 starts) on DCGAN k = 10,
# whose regular Adam with surfing's whole budget is done; the homotopy ablation (linear path
# θ_0 → θ_T; 10 snapshots instead of 99) on DCGAN k = 5 (these two train their generators again:
# 1,050 s each on Cooperlake kernels, one thread); DCGAN k = 20 (the step-size question: 0.001 at
# k = 20), and its regular Adam again at 0.01 (added 2026-12-05, session 14); random restarts with
# their number chosen on validation trials (restarts_tuned) on DCGAN k = 10; DCGAN k = 5's fair
# comparisons and restarts_tuned; the fair comparisons and restarts_tuned of WGAN-GP and WGAN at
# k = 10; the other k = 20 cells (moved here 2026-12-05, session 15); WGAN k = 5's fair
# comparisons and restarts_tuned; a second generator seed of the GAN cells at k = 5; compressed
# sensing at m = 100 (DCGAN k = 20, fresh N(0, 1) A per trial; moved before the rest on
# 2026-12-05, session 17, as the one question without any answer); the rest of the fair
# comparisons and the ablation; WGAN k = 5 with the released trainers' running statistics; compressed
# sensing at the other m, as late units (`late`: taken only when nothing before them can be, so a
# generator the fair comparisons need is trained before them; added 2026-12-06, session 23). With
# two streams, the second takes the next unit in this order while the first holds one (a cell's
# surfing waits on its regular Adam), and runs the late units while the first trains a generator.
# Then the paper's Fig. 4 at m = 100 (regular Adam and surfing on 100 held-out test images; added
# session 28) and its fair peer, 10 restarts sharing surfing's steps (session 31), late units too.
# Last, a third generator seed of the GAN cells at k = 5 (added 2026-12-07, session 25).
#
# Generators (train.py and the model files of the released code; batch 128, Adam β₁ = 0.5,
# weights N(0, 0.02²), $TRAIN_THREADS threads):
#   dcgan    GAN.py: D 2e-4, G 1e-3, one D step per G step, critic batch norm
#   wgan     WGAN.py: disc_iters = 1, D 2e-4, G 1e-3, weight clipping ±0.01
#   wgan-gp  WGAN_GP.py: disc_iters = 1, D 2e-4, G 1e-3, λ = 0.25, critic with batch norm,
#            ε per pixel and the norm over the image height axis (--gp-style released)
#   vae      VAE.py: lr 1e-3; checkpoints every 50 steps to 5000 (GD_surfing.py of VAE)
#   GANs: 4000 generator steps, a snapshot every 40 (inter = 40: surfing visits 40 … 3960,
#   the final network is step 4000).
# Inversion: `lpom surf --protocol paper` (SurfProtocol.swift), 300 in-range trials, seed 1:
# regular Adam first, then surfing with --prefinal-budget = regular Adam's mean iterations over
# its successful trials (the statistic the authors' hard-coded budgets match).
#
# Outputs: generators in $ROOT/gen (≈ 2.6 GB each), full JSON per run in $ROOT/surf (out of
# git), a small JSON per run (no per-trial latents; run time, command) in $RES (commit those).
set -euo pipefail
cd "${REPO:-$(dirname "$0")/..}"
ROOT=${ROOT:-runs/paper}
GEN=$ROOT/gen
OUT=$ROOT/surf
RES=${RES:-notebooks-md/03-results}
LPOM=${LPOM:-$ROOT/bin/lpom}
DATA=${DATA:-data}
TRIALS=${TRIALS:-300}
SEED=${SEED:-1}
PY=${PY:-python3}
# Trials per piece. Larger pieces keep more rows in each worker's products: pieces of 50 on two
# workers (25 rows each, 13 once half have succeeded) cost 1.38 CPU ms per trial-step on the
# DCGAN k = 5 generator, against 0.93 ms for pieces of 200 (100 rows per worker). Every run now
# saves its descents on the final network (`lpom surf --checkpoint`, every $CHECKPOINT_EVERY steps)
# and a killed one continues from its last save, so runs go whole by default; earlier runs'
# finished pieces (of 50 or 150 trials) are kept and only their missing trials run.
PIECE=${PIECE:-300}
CHECKPOINT_EVERY=${CHECKPOINT_EVERY:-1000}
# Surfing-like runs (surfing, restarts, the ablation) solve most trials within a few thousand
# steps and then carry only their failures through 60,000 final steps: in pieces of 150 that tail
# is ≈ 13 rows per worker and cost 1.29 CPU ms per trial-step (DCGAN k = 5 surfing). Whole runs
# keep twice the rows in the tail; a surfing run of 300 trials takes about 40 minutes on two cores.
SURF_PIECE=${SURF_PIECE:-300}
# Workers of each surf run: SURF_THREADS=2 splits a piece's trials over both cores (1.84× in
# bench/surf_bench.sh). Each trial's arithmetic is its own, equal to one thread's up to the
# rounding OpenBLAS's kernel choice for fewer rows may change (bit-identical in that bench's
# check), so pieces run with either setting are the same experiment and merge into one run.
SURF_THREADS=${SURF_THREADS:-1}
# Threads of generator training (its image layers split the batch; the thread count is recorded).
TRAIN_THREADS=${TRAIN_THREADS:-$SURF_THREADS}
# A generator whose finished cell is in $RES but whose history is gone (a new machine) is trained
# again for the runs still to do on it, on the thread count it was first trained with (the batch is
# split over the threads, so the count changes the rounding): from the notebook and the git log of
# this script (`--threads 1` until 0f672a4, 2026-12-04 16:35; WGAN-GP and WGAN k = 5 after it, on
# two). The retrained history is checked against the finished cell (retrained_ok below: a prefix
# of its regular-Adam run again, equal to the bit) before its new runs are reported beside the old.
train_threads_of() {
    case $1 in
        wgan-gp-k5-g1|wgan-k5-g1|wgan-k5-g1f2) echo 2 ;;
        dcgan-k5-g1|*-k10-g1) echo 1 ;;
        *) echo "$TRAIN_THREADS" ;;
    esac
}
STREAM=${STREAM:-1}
MERGE=${MERGE:-$ROOT/bin/surf_merge_pieces.py}
mkdir -p "$GEN" "$OUT" "$RES"
log() { echo "$(date -u +%FT%TZ) [$STREAM] $*"; }
# BLAS kernels. Every finished cell ran on OpenBLAS's Cooperlake kernels (each generator's training
# record names them; notes/speed-profiles-2026-12-04.md). Some machines of this kind set
# OPENBLAS_CORETYPE=Haswell in the environment: AVX2 kernels round products differently in the last
# bits, GAN training amplifies that, and a generator trained again there is another generator
# (found 2026-12-05: InversionWorkersTests differs by 1.8e-5 under Haswell, passes under the
# CPU's own kernels). The sweep runs on the kernels the table was made with when the CPU has them
# (SWEEP_CORETYPE=keep leaves the environment's).
SWEEP_CORETYPE=${SWEEP_CORETYPE:-Cooperlake}
if [ "$SWEEP_CORETYPE" != keep ]; then
    if grep -q avx512_bf16 /proc/cpuinfo; then
        export OPENBLAS_CORETYPE=$SWEEP_CORETYPE
    else
        log "warning: this CPU has no AVX-512 BF16; OpenBLAS keeps ${OPENBLAS_CORETYPE:-its own} kernels, so generators trained again here will not be the table's"
    fi
fi

# locked LOCKFILE COMMAND...: runs COMMAND (a function of this script) in a subshell holding an
# exclusive flock on LOCKFILE; returns 75 at once, setting BUSY, when another stream holds it.
BUSY=0
locked() {
    local lock=$1 rc=0; shift
    ( flock -n 9 || exit 75; "$@" ) 9> "$lock" || rc=$?
    if ((rc == 75)); then BUSY=1; fi
    return "$rc"
}
# A unit that failed is marked NAME.failed (its last error line) and not tried again by this
# sweep; `bash scripts/surf_sweep.sh start` removes the marks, so the next start retries it.
failed() { echo "$2" > "$1.failed"; log "FAILED $2"; }

# Generator training options per model (see the header).
train_options() {
    case $1 in
        dcgan)   echo "--model dcgan --steps 4000 --snapshot-every 40" ;;
        wgan)    echo "--model wgan --n-critic 1 --g-lr 1e-3 --d-lr 2e-4 --clip 0.01 --steps 4000 --snapshot-every 40" ;;
        wgan-gp) echo "--model wgan-gp --n-critic 1 --g-lr 1e-3 --d-lr 2e-4 --gp-lambda 0.25 --critic-batchnorm on --gp-style released --steps 4000 --snapshot-every 40" ;;
        vae)     echo "--model vae --lr 1e-3 --steps 5000 --snapshot-every 50" ;;
    esac
}

# The released trainers run the generator forward twice per step (critic update, then generator
# update, two sess.run calls on the same latents), so its batch-norm running statistics advance
# twice per step (GANConfiguration.generatorForwardsPerStep); the table's generators pass once.
# A generator seed "Nf2" (the experiment `cell wgan 5 1f2`, added 2026-12-06, session 18) is seed
# N trained as the released trainers do: the same θ at every snapshot (the second pass repeats the
# first), other running statistics, so the same trials measure what the statistics alone do.
forwards_of() { case $1 in *f2) echo "--generator-forwards 2" ;; esac; }

# generator MODEL K GSEED: trains $GEN/MODEL-kK-gGSEED.h5 unless it is there (written as .part,
# renamed when complete); succeeds only when the generator is there (not while another stream
# trains it, nor after a failure). A .part left by a killed sweep is continued from its last snapshot
# (`lpom train --resume`, exactly as if never stopped); one that cannot be (written before lpom
# saved the state of generative runs) is trained afresh.
#
# Generators at hand first (added 2026-12-06, session 19). A new machine has lost every history,
# and training one again costs 0.3–1.2 CPU hours, lost again if the machine is replaced before the
# runs on it finish. So each walk of the order first takes only the units whose generator is here
# (HAVE_ONLY=1: generator() trains nothing), and a stream trains a generator only when nothing is
# left on those and no other stream is training one (it waits for that one instead, BUSY): both
# streams work on one generator at a time where they can, rather than each training its own.
HAVE_ONLY=0
WAIT=${WAIT:-60}
# another_training: some stream holds a generator's training lock (flock on $GEN/*.h5.lock).
another_training() {
    local f
    for f in "$GEN"/*.h5.lock; do
        [ -e "$f" ] || continue
        ( flock -n 9 ) 9< "$f" || return 0
    done
    return 1
}
generator() {
    local model=$1 k=$2 g=$3
    local h="$GEN/$model-k$k-g$g.h5"
    if [ -s "$h" ]; then return 0; fi
    if [ -e "$h.failed" ]; then return 1; fi
    if ((HAVE_ONLY)); then return 1; fi
    # A walk that has finished a unit trains nothing more: the next walk takes the units on the
    # generators now at hand first (added 2026-12-06, session 20: a stream that finished a unit on
    # WGAN-GP k = 5 went on to train DCGAN k = 20 while that generator's ablation waited).
    if walk_finished_a_unit; then BUSY=1; return 1; fi
    if another_training; then BUSY=1; return 1; fi
    locked "$h.lock" train_generator "$model" "$k" "$g" || return 1
    [ -s "$h" ]
}
train_generator() {
    local model=$1 k=$2 g=$3
    local name="$model-k$k-g$g" h="$GEN/$model-k$k-g$g.h5"
    if [ -s "$h" ]; then return 0; fi
    local t0=$SECONDS threads
    threads=$(train_threads_of "$name")
    local TRAIN_THREADS=$threads
    if [ -s "$h.part" ]; then
        log "continue training $name from its last snapshot ($TRAIN_THREADS thread(s))"
        if LPOM_DENORMALS=ieee "$LPOM" train --resume "$h.part" --threads "$TRAIN_THREADS" --quiet --sample-grid "$GEN/$name.png" >> "$GEN/$name.log" 2>&1; then
            mv "$h.part" "$h"
            log "trained $name (continued) in $((SECONDS - t0)) s"
            return 0
        fi
        log "could not continue $name ($(tail -1 "$GEN/$name.log")); training it afresh"
    fi
    log "train $name ($TRAIN_THREADS thread(s))"
    # Generators train with IEEE denormals (LPOM_DENORMALS=ieee), as every generator of the table was
    # trained before lpom flushed them (2026-12-06): the digest check compares bits. Flushing does not
    # speed training up (DCGAN k = 20, 200 steps: 90.7 s flushed, 93.8 s IEEE, the same digest).
    # A generator seed "Nf2" is seed N trained with two generator passes per step (forwards_of).
    # shellcheck disable=SC2046
    if ! LPOM_DENORMALS=ieee "$LPOM" train --dataset fashion-mnist --data-dir "$DATA" --threads "$TRAIN_THREADS" --seed "${g%f2}" --quiet --overwrite \
        --generator paper --latent "$k" $(train_options "$model") $(forwards_of "$g") --history "$h.part" \
        --sample-grid "$GEN/$name.png" > "$GEN/$name.log" 2>&1; then
        failed "$h" "training $name: $(tail -1 "$GEN/$name.log")"; return 1
    fi
    mv "$h.part" "$h"
    log "trained $name in $((SECONDS - t0)) s"
}

# surf CELL TAG [lpom surf options...]: one run, skipped when its small JSON exists. The run is
# split into pieces of $PIECE trials (--trial-range; the same trials as one run), each kept in
# $OUT/CELL-TAG.pieces/ as it finishes; a piece under way saves its state in FROM-TO.ckpt/ and a
# killed sweep continues it from there (the same range is taken up again whatever $PIECE is);
# when all are there, scripts/surf_merge_pieces.py makes the whole run's JSON.
surf() {
    local small="$RES/$1-$2.json" unit="$OUT/$1-$2"
    if [ -s "$small" ]; then return 0; fi
    if [ -e "$unit.failed" ] || [ ! -s "$GEN/${1%-s*}.h5" ]; then return 1; fi
    locked "$unit.lock" surf_run "$@" || return 1
    [ -s "$small" ]
}
surf_run() {
    local cell=$1 tag=$2; shift 2
    local full="$OUT/$cell-$tag.json" small="$RES/$cell-$tag.json" dir="$OUT/$cell-$tag.pieces"
    if [ -s "$small" ]; then return 0; fi
    local h="$GEN/${cell%-s*}.h5"
    if [ ! -s "$h" ]; then log "skip $cell $tag: no generator $h"; return 1; fi
    mkdir -p "$dir"
    local t0=$SECONDS a=0 b f pieces=() threads=""   # (none when every piece had finished before)
    while ((a < TRIALS)); do
        # A finished piece starting at trial a (of whatever size an earlier run used) is kept.
        b=""
        for f in "$dir/$a"-*.json; do
            [ -s "$f" ] || continue
            b=${f##*/$a-}; b=${b%.json}
        done
        if [ -n "$b" ]; then pieces+=("$dir/$a-$b.json"); a=$b; continue; fi
        # A piece started earlier and checkpointed is continued with its own range.
        for f in "$dir/$a"-*.ckpt; do
            [ -d "$f" ] || continue
            b=${f##*/$a-}; b=${b%.ckpt}
        done
        if [ -z "$b" ]; then
            b=$((a + PIECE < TRIALS ? a + PIECE : TRIALS))
            if ((TRIALS - b < PIECE / 2)); then b=$TRIALS; fi   # no small last piece
        fi
        pieces+=("$dir/$a-$b.json")
        # A checkpointed piece continues on the workers it was saved with (lpom refuses another split).
        threads=$SURF_THREADS
        if [ -s "$dir/$a-$b.ckpt/split.json" ]; then
            threads=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['workers'])" "$dir/$a-$b.ckpt/split.json")
        fi
        # SAVE=FILE: the run's x̂, G(x̂) and targets (`lpom surf --save`, HDF5, out of git), for a unit
        # run as one piece. lpom writes it at the run's end and refuses an existing file, so a launch
        # (new or continued from its checkpoint) first removes what an interrupted one may have left.
        local save=()
        if [ -n "${SAVE:-}" ]; then
            if ((a != 0 || b != TRIALS)); then
                failed "$OUT/$cell-$tag" "$cell $tag: SAVE needs the unit in one piece, not trials $a:$b"; return 1
            fi
            rm -f "$SAVE"; save=(--save "$SAVE")
        fi
        log "surf $cell $tag trials $a:$b$([ -d "$dir/$a-$b.ckpt" ] && echo " (continued from its checkpoint)") on $threads worker(s): $*"
        if ! "$LPOM" surf "$h" --protocol paper --trials "$TRIALS" --trial-range "$a:$b" --seed "$SEED" --threads "$threads" --json --quiet \
            --checkpoint "$dir/$a-$b.ckpt" --checkpoint-every "$CHECKPOINT_EVERY" "${save[@]}" "$@" \
            > "$dir/$a-$b.json.tmp" 2> "$dir/$a-$b.err"; then
            failed "$OUT/$cell-$tag" "$cell $tag trials $a:$b: $(tail -1 "$dir/$a-$b.err")"; return 1
        fi
        mv "$dir/$a-$b.json.tmp" "$dir/$a-$b.json"
        a=$b
    done
    "$PY" "$MERGE" "$full" "${pieces[@]}" > /dev/null || { failed "$OUT/$cell-$tag" "merging $cell $tag"; return 1; }
    local ranges="${pieces[*]##*/}"; ranges=${ranges//.json/}; ranges=${ranges//-/:}
    "$PY" - "$full" "$small" "lpom surf $h --protocol paper --trials $TRIALS --seed $SEED $*, in pieces (--trial-range) ${ranges// /, }${threads:+ (the last run with --threads $threads)}${NOTE:+; $NOTE}" <<'EOF'
import json, sys
full, small, cmd = sys.argv[1:4]
d = json.load(open(full))
r = d.pop("results")
d["iterations"] = [t["iterations"] for t in r]
d["distances"] = [round(t["distance"], 6) if t.get("distance") is not None else None for t in r]
d["rmses"] = [round(t["rmse"], 6) if t.get("rmse") is not None else None for t in r]   # per trial (from session 28)
d["run_seconds"] = round(d["seconds"])
d["command"] = cmd
tmp = small + ".tmp"
json.dump(d, open(tmp, "w"), indent=0)
import os; os.replace(tmp, small)
EOF
    log "done $cell $tag ($((SECONDS - t0)) s this time)"
}

# A field of a small JSON (empty when missing or null).
field() { "$PY" -c "import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print('' if v is None else v)" "$1" "$2"; }

# Steps of the one regular-Adam run per cell ("adam-long") beyond the authors' 60,000. It was
# 1.5 × the authors' own regular-Adam mean (at least 1,000), so that its first B + 60,000 steps
# would also give regular Adam surfing's whole budget (scripts/surf_cap.py; exact, the descent of a
# trial does not depend on the budget). That guess fell short where our generator is slower to
# invert than theirs (WGAN-GP k = 5: B = 1,119 > 1,000). Now the run keeps its checkpoint
# (`lpom surf --keep-checkpoint`) and the fair comparison continues it from step 60,000 to exactly
# B + 60,000 (`fair` below), so no extra steps are run on a guess: LONG_EXTRA=0. (The WGAN-GP and
# WGAN k = 5 cells ran with the old extra.)
LONG_EXTRA=${LONG_EXTRA:-0}
CAP=${CAP:-$ROOT/bin/surf_cap.py}
# cap LONG STEPS OUT: the first STEPS final steps of a longer regular-Adam run, once (a unit).
cap() {
    local mark; mark=$OUT/$(basename "${3%.json}")
    [ -s "$3" ] && return 0
    [ -e "$mark.failed" ] && return 1
    "$PY" "$CAP" "$1" "$2" "$3" || { failed "$mark" "capping $1 at $2"; return 1; }
}

# cell MODEL K GSEED: regular Adam, then surfing on the budget Adam measured. Regular Adam runs
# once for 60,000 + LONG_EXTRA steps ("adam-long", its checkpoint kept); "adam" is its first 60,000
# steps. (A cell whose "adam" run was started before this, in pieces of 60,000 steps, finishes
# that way.)
cell() {
    local model=$1 k=$2 g=$3
    local c="$model-k$k-g$g-s$SEED"
    [ -s "$RES/$c-adam.json" ] && [ -s "$RES/$c-surfing.json" ] && return 0   # done (no retraining)
    local adam_before=0
    [ -s "$RES/$c-adam.json" ] && adam_before=1
    generator "$model" "$k" "$g" || return 0
    if [ ! -s "$RES/$c-adam.json" ]; then
        if compgen -G "$OUT/$c-adam.pieces/*.json" > /dev/null; then
            surf "$c" adam --method adam || return 0
        else
            surf "$c" adam-long --method adam --steps $((60000 + LONG_EXTRA)) --keep-checkpoint || return 0
            locked "$OUT/$c-adam.lock" cap "$RES/$c-adam-long.json" 60000 "$RES/$c-adam.json" || return 0
        fi
        [ -s "$RES/$c-adam.json" ] || return 0
    fi
    # Regular Adam finished before this walk (perhaps on another machine, the generator since
    # trained again): surfing pairs with it only on the same generator, so check it first (added
    # 2026-12-05, session 17: WGAN k = 5's second seed lost its history between its regular Adam
    # and its surfing).
    if ((adam_before)); then retrained_ok "$model" "$k" "$g" || return 0; fi
    local b
    b=$(field "$RES/$c-adam.json" mean_successful_iterations)
    if [ -n "$b" ]; then b=$(printf '%.0f' "$b"); else b=published; fi
    PIECE=$SURF_PIECE surf "$c" surfing --method surfing --prefinal-budget "$b" || true
}

# fair MODEL K GSEED: regular Adam with surfing's whole per-trial budget (pre-final + 60000), and
# 10 random restarts sharing surfing's mean total steps (Bora et al. 2017). Regular Adam's is read
# off "adam-long" when that ran far enough, else continued from adam-long's kept checkpoint (a
# copy: only the steps after its last ones run, and the result is that of a run given
# B + 60,000 steps from the start — tested in SurfCLITests; its times include adam-long's, saved
# in the checkpoint's clock), else run whole.
# share MEAN R: steps per restart when R restarts share a mean budget of MEAN steps, ⌈MEAN / R⌉
# (at least 1).
share() { "$PY" -c "import math, sys; print(max(1, math.ceil(float(sys.argv[1]) / int(sys.argv[2]))))" "$1" "$2"; }
fair() {
    local model=$1 k=$2 g=$3
    local c="$model-k$k-g$g-s$SEED"
    [ -s "$RES/$c-surfing.json" ] || return 0
    [ -s "$RES/$c-restarts.json" ] && [ -s "$RES/$c-adam-total.json" ] && return 0
    generator "$model" "$k" "$g" || return 0   # trained again when its history is gone
    retrained_ok "$model" "$k" "$g" || return 0
    local b m
    b=$(field "$RES/$c-surfing.json" prefinal_budget)
    m=$(field "$RES/$c-surfing.json" mean_iterations)
    # Random restarts first: surfing-like (≈ 40 CPU minutes), where regular Adam's whole budget
    # may be a 60,000-step run again (≈ 150) when adam-long's checkpoint is gone.
    PIECE=$SURF_PIECE surf "$c" restarts --method restarts --restarts 10 --restart-steps "$(share "$m" 10)" || true
    local long=$RES/$c-adam-long.json
    local kept="$OUT/$c-adam-long.pieces/0-$TRIALS.ckpt" into="$OUT/$c-adam-total.pieces/0-$TRIALS.ckpt"
    if [ -s "$long" ] && ((b + 60000 <= $(field "$long" final_steps))); then
        locked "$OUT/$c-adam-total.lock" cap "$long" $((b + 60000)) "$RES/$c-adam-total.json" || true
    elif [ -s "$kept/split.json" ] || [ -e "${into%/*}/from-adam-long" ]; then
        # (the mark, not the checkpoint directory: a whole run saves its own checkpoint there too)
        if [ ! -e "${into%/*}/from-adam-long" ]; then
            mkdir -p "${into%/*}" && rm -rf "$into" && cp -r "$kept" "$into.tmp" && mv "$into.tmp" "$into" && touch "${into%/*}/from-adam-long"
        fi
        NOTE="continued from a copy of adam-long's checkpoint (its state after 60,000 steps): only the steps after those ran, and its times include adam-long's" \
            surf "$c" adam-total --method adam --steps $((b + 60000)) --keep-checkpoint || true
    else
        surf "$c" adam-total --method adam --steps $((b + 60000)) || true
    fi
}

# restarts_tuned MODEL K GSEED: random restarts with the number of restarts R chosen, not fixed at
# Bora et al.'s 10. On 100 validation trials drawn with another seed (VAL_SEED; never the table's
# trials) each R in 1 2 5 10 gets surfing's mean total steps per trial split R ways; the R with the
# highest validation success (ties: fewer mean steps) then runs once on the table's 300 trials
# ("restarts-tuned"; R = 10 is the "restarts" run already there, copied with the choice noted;
# R = 1 is the first steps of "adam-total", read off it).
VAL_SEED=${VAL_SEED:-1001}
# chosen_copy FROM TO R NOTE: FROM's result as the restarts chosen on validation (R, the note).
chosen_copy() {
    "$PY" - "$1" "$2" "$3" "$VAL_SEED" "$4" <<'EOF2'
import json, os, sys
d = json.load(open(sys.argv[1]))
d["chosen_on_validation"] = {"restarts": int(sys.argv[3]), "validation_seed": int(sys.argv[4]), "note": sys.argv[5]}
json.dump(d, open(sys.argv[2] + ".tmp", "w"), indent=0); os.replace(sys.argv[2] + ".tmp", sys.argv[2])
EOF2
}
restarts_tuned() {
    local model=$1 k=$2 g=$3
    local c="$model-k$k-g$g-s$SEED"
    [ -s "$RES/$c-surfing.json" ] && [ -s "$RES/$c-restarts.json" ] || return 0
    [ -s "$RES/$c-restarts-tuned.json" ] && return 0
    generator "$model" "$k" "$g" || return 0
    retrained_ok "$model" "$k" "$g" || return 0
    local m r vals=()
    m=$(field "$RES/$c-surfing.json" mean_iterations)
    for r in 1 2 5 10; do
        SEED=$VAL_SEED TRIALS=100 PIECE=100 surf "$c" "val$VAL_SEED-restarts$r" --method restarts --restarts $r \
            --restart-steps "$(share "$m" "$r")" || return 0
        vals+=("$RES/$c-val$VAL_SEED-restarts$r.json")
    done
    local best
    best=$("$PY" -c "
import json, sys
rows = [(json.load(open(f)), r) for f, r in zip(sys.argv[1:], (1, 2, 5, 10))]
print(max(rows, key=lambda t: (t[0]['success_rate'], -t[0]['mean_iterations']))[1])" "${vals[@]}")
    log "restarts for $c chosen on validation trials (seed $VAL_SEED): R = $best"
    if ((best == 10)); then
        chosen_copy "$RES/$c-restarts.json" "$RES/$c-restarts-tuned.json" 10 "R = 10 chosen: the 'restarts' run itself"
    elif ((best == 1)) && [ ! -e "$OUT/$c-adam-total.failed" ]; then
        # One restart of S steps is regular Adam cut at S steps (the same start, step and descent:
        # SurfCLITests.testOneRandomRestartIsRegularAdamCutAtItsSteps), so R = 1 is read off the
        # fair comparison's whole-budget run (scripts/surf_cap.py, exact) rather than run again
        # (added 2026-12-06, session 21: DCGAN and WGAN-GP k = 10 chose R = 1 and ran it, equal to
        # the iteration; a run of ≈ 1–1.5 CPU h per cell). Waits while that run is under way.
        if [ ! -s "$RES/$c-adam-total.json" ]; then BUSY=1; return 0; fi
        local capped="$OUT/$c-restarts-tuned.capped.json" steps
        steps=$(share "$m" 1)
        locked "$OUT/$c-restarts-tuned.lock" cap "$RES/$c-adam-total.json" "$steps" "$capped" || return 0
        chosen_copy "$capped" "$RES/$c-restarts-tuned.json" 1 \
            "R = 1 chosen: one restart is regular Adam cut at its steps, read off the adam-total run"
        log "restarts for $c, R = 1: the first $steps steps of its regular Adam with surfing's whole budget"
    else
        NOTE="R = $best chosen among 1, 2, 5, 10 on 100 validation trials (--seed $VAL_SEED)" PIECE=$SURF_PIECE \
            surf "$c" restarts-tuned --method restarts --restarts "$best" \
            --restart-steps "$(share "$m" "$best")" || true
    fi
}

# retrained_ok MODEL K GSEED: once per machine, before new runs on a generator whose cell is done:
# the cell's regular Adam again for its first few hundred steps over its first piece's trials and
# workers (scripts/surf_retrain_check.py: every trial it had solved by then equal to the bit, the
# others unsolved), the record in $RES/retrained/ with the checked generator's final-network
# digest; on a later machine the digests are compared instead (check_generator); a different
# generator is marked failed (its runs would not pair with the cell's).
CHECK=${CHECK:-$ROOT/bin/surf_retrain_check.py}
retrained_ok() {
    local name="$1-k$2-g$3" c="$1-k$2-g$3-s$SEED"
    [ -e "$GEN/$name.checked" ] && return 0
    [ -e "$GEN/$name.h5.failed" ] && return 1
    locked "$GEN/$name.check.lock" check_generator "$name" "$c" || return 1
    [ -e "$GEN/$name.checked" ]
}
check_generator() {
    local name=$1 c=$2
    local h="$GEN/$name.h5" small="$RES/$c-adam.json" mark="$GEN/$name.checked" record="$RES/retrained/$name.json"
    [ -e "$mark" ] && return 0
    # A generator checked once has its final network's digest recorded (`lpom inspect --json`,
    # SHA-256 of its parameters and buffers): comparing digests is the same check, bit for bit,
    # in seconds instead of a regular-Adam rerun (38 minutes for DCGAN k = 20).
    local want got
    got=$(digest_of "$h") || { failed "$h" "checking $name: lpom inspect could not read it"; return 1; }
    want=$(field "$record" final_network_digest 2>/dev/null || true)
    if [ -n "$want" ]; then
        if [ "$got" = "$want" ]; then
            log "check $name: final network digest $got, as recorded in $record: the same generator"
            touch "$mark"; return 0
        fi
        failed "$h" "checking $name: final network digest $got, recorded $want in $record: NOT the same generator"; return 1
    fi
    local range threads steps
    read -r range threads steps < <("$PY" "$CHECK" plan "$small")
    mkdir -p "$RES/retrained"
    log "check $name against $c regular Adam: trials $range, $threads worker(s), $steps steps"
    if ! "$LPOM" surf "$h" --protocol paper --trials "$TRIALS" --trial-range "$range" --seed "$SEED" --threads "$threads" --json --quiet \
        --method adam --steps "$steps" > "$GEN/$name.check.json" 2> "$GEN/$name.check.err"; then
        failed "$h" "checking $name: $(tail -1 "$GEN/$name.check.err")"; return 1
    fi
    local verdict rc=0
    verdict=$("$PY" "$CHECK" compare "$small" "$GEN/$name.check.json" "$record" "$got") || rc=$?
    log "$verdict"
    if ((rc != 0)); then failed "$h" "$verdict"; return 1; fi
    touch "$mark"
}
# The final network's digest of history $1 (`lpom inspect --json`).
digest_of() {
    "$LPOM" inspect "$1" --json | "$PY" -c "import json,sys; print(json.load(sys.stdin)['final_network_digest'])"
}
# The --prefinal-budget B a finished surfing run was given (its JSON's prefinal_budget is the total
# of the rounded schedule, a few steps less).
budget_of() { "$PY" -c "import re,sys,json; print(re.search(r'--prefinal-budget (\d+)', json.load(open(sys.argv[1]))['command']).group(1))" "$1"; }

# ablation MODEL K GSEED: the same budget along the straight line θ_0 → θ_T, and along 10 snapshots.
ablation() {
    local model=$1 k=$2 g=$3
    local c="$model-k$k-g$g-s$SEED"
    [ -s "$RES/$c-surfing.json" ] || return 0
    [ -s "$RES/$c-linear.json" ] && [ -s "$RES/$c-snapshots10.json" ] && return 0
    generator "$model" "$k" "$g" || return 0
    retrained_ok "$model" "$k" "$g" || return 0
    local b
    b=$(budget_of "$RES/$c-surfing.json")   # surfing's own B: the same rounded schedule on the line
    PIECE=$SURF_PIECE surf "$c" linear --method surfing --prefinal-budget "$b" --path linear --first-snapshot 0 || true
    PIECE=$SURF_PIECE surf "$c" snapshots10 --method surfing --prefinal-budget "$b" --snapshots 10 || true
}

# cs_generator: the DCGAN k = 20 generator every compressed-sensing unit inverts (the table's k = 20
# cell's), at hand, and checked against the recorded digest when it was trained again.
cs_generator() {
    generator dcgan 20 1 && retrained_ok dcgan 20 1
}

# cs M: compressed sensing (compressX.py) on the DCGAN k = 20 generator, M measurements, 100
# in-range trials, a fresh N(0, 1) A per trial; regular Adam, then surfing. The generator is the
# table's k = 20 cell's (trained again and checked when its history is gone).
cs() {
    local m=$1 c="dcgan-k20-g1-s$SEED"
    [ -s "$RES/$c-cs-m$m-adam.json" ] && [ -s "$RES/$c-cs-m$m-surfing.json" ] && return 0
    cs_generator || return 0
    TRIALS=100 surf "$c" "cs-m$m-adam" --method adam --measurements "$m" || true
    TRIALS=100 surf "$c" "cs-m$m-surfing" --method surfing --measurements "$m" || true
}

# cs_real M: the paper's Fig. 4 (rate-distortion; compress.py): 100 held-out Fashion-MNIST test
# images y (no x*: the per-pixel RMSE √(‖G(x̂) − y‖²/n) is the measure), M measurements, a fresh
# N(0, 1) A per trial, starts from N(0, I) clipped (the paper protocol's settings for test images
# with measurements, `PaperProtocol.compressedImageStart`; given here explicitly too, because the
# sweep keeps the binary it started with, which may predate them); regular Adam, then surfing, paired.
# Added 2026-12-07 (session 28): the paper's Fig. 4 had no answer. One M (100, where Fig. 3's
# comparison has restarts too) at 100 images: ≈ 7 CPU h, the paper's 9 M × 200 images on two
# generators would be 36 times that.
cs_real() {
    local m=$1 t finished=1
    for t in adam surfing; do cs_real_done "$m" "$t" || finished=0; done
    ((finished)) && return 0
    cs_generator || return 0
    for t in adam surfing; do cs_real_run "$m" "$t" --method "$t"; done
}
# cs_real_done M TAG: that run on the held-out images finished earlier (its picture drawn now, if
# it was not yet).
cs_real_done() {
    local c="dcgan-k20-g1-s$SEED"
    [ -s "$RES/$c-cs-real-m$1-$2.json" ] || return 1
    recon_png "$OUT/$c-cs-real-m$1-$2.h5" "$RES/$c-cs-real-m$1-$2.png"
    return 0
}
# cs_real_run M TAG OPTION...: one run on the held-out images with M measurements and compress.py's
# starts and stops (cs_real above), what it found saved in runs/ and drawn at once; the options
# say the method.
cs_real_run() {
    local m=$1 t=$2 c="dcgan-k20-g1-s$SEED"; shift 2
    SAVE="$OUT/$c-cs-real-m$m-$t.h5" TRIALS=100 PIECE=100 surf "$c" "cs-real-m$m-$t" "$@" --measurements "$m" \
        --target test-images --data-dir "$DATA" --prior normal --clip on --plateau-window 0 || true
    recon_png "$OUT/$c-cs-real-m$m-$t.h5" "$RES/$c-cs-real-m$m-$t.png"
}
# cs_real_restarts M: Bora et al.'s peer on Fig. 4's held-out images: 10 random restarts on the
# final network sharing surfing's mean steps per trial (surfing ran all 312,000 on every image: no
# x*, no success stop), on the same 100 images, A and first starts; each restart is regular Adam as
# in cs_real (step 0.002, no gradient stop), the restart with the lowest measurement loss
# ‖A G(x) − A y‖² kept (Bora et al.'s choice; y itself is not seen). Added 2026-12-07 (session 31):
# surfing's lower RMSE than regular Adam's (78 of 100 images) came with 15.6 times its steps.
cs_real_restarts() {
    local m=$1 c="dcgan-k20-g1-s$SEED" mean
    [ -s "$RES/$c-cs-real-m$m-surfing.json" ] || return 0
    cs_real_done "$m" restarts && return 0
    cs_generator || return 0
    mean=$(field "$RES/$c-cs-real-m$m-surfing.json" mean_iterations)
    cs_real_run "$m" restarts --method restarts --restarts 10 --restart-steps "$(share "$mean" 10)"
}
# recon_png SAVE.h5 OUT.png: the first 10 test images above what the run found for them
# (scripts/surf_recon_png.py), rendered once, as soon as the run is done: the PNG (≈ 20 KB) is
# committed with the results, the run's HDF5 stays in runs/ and a new machine loses it.
RECON=${RECON:-$ROOT/bin/surf_recon_png.py}
recon_png() {
    [ -s "$2" ] && return 0
    if [ ! -s "$1" ]; then   # (said once per machine)
        if [ -e "${2%.png}.json" ] && [ ! -e "$1.lost" ]; then touch "$1.lost"; log "no $1 (lost with another machine?): $2 not drawn"; fi
        return 0
    fi
    "$PY" "$RECON" "$2" "$1" --columns 10 --scale 3 > /dev/null 2> "$2.err" \
        && { rm -f "$2.err"; log "drew $2"; } || { log "warning: drawing $2 failed: $(tail -1 "$2.err")"; rm -f "$2" "$2.err"; }
}

# cs_restarts M: Bora et al.'s peer in compressed sensing: 10 random restarts on the final network
# sharing surfing's mean steps per trial, on the same 100 trials and A. Each restart is regular
# Adam as compressX.py's normal_adamGD runs it (step 0.002, no gradient stop; PaperProtocol
# .finalNetworkOnly). Added 2026-12-06 (session 20): surfing's 83% against regular Adam's 60% at
# m = 100 spent 20 times regular Adam's steps per trial.
cs_restarts() {
    local m=$1 c="dcgan-k20-g1-s$SEED"
    [ -s "$RES/$c-cs-m$m-surfing.json" ] || return 0
    [ -s "$RES/$c-cs-m$m-restarts.json" ] && return 0
    cs_generator || return 0
    local mean
    mean=$(field "$RES/$c-cs-m$m-surfing.json" mean_iterations)
    TRIALS=100 surf "$c" "cs-m$m-restarts" --method restarts --measurements "$m" --restarts 10 \
        --restart-steps "$(share "$mean" 10)" || true
}

# late UNIT...: a unit taken only when the units before it cannot be (added 2026-12-06, session
# 23). Generators at hand first kept both streams on the DCGAN k = 20 generator's remaining
# compressed sensing (m = 50, 200, 400: ≈ 21 CPU h) while the fair comparisons of WGAN-GP and WGAN
# at k = 20 and the ablation on WGAN k = 5 — answers the notebook's tables still lack — waited for
# their generators. A late unit is skipped by the pass over generators at hand (HAVE_ONLY) and by a
# walk that has finished a unit (the next walk looks at the earlier units first); it runs when the
# earlier units are done or are waiting for a generator another stream is training (BUSY): one
# stream trains while the other runs the late units on the generator at hand.
late() {
    if ((HAVE_ONLY)) || walk_finished_a_unit; then return 0; fi
    "$@"
}

walk() {
for k in 5 10; do
    for model in dcgan wgan-gp wgan vae; do cell "$model" "$k" 1; done
done
fair dcgan 10 1   # its regular Adam with surfing's whole budget is done: random restarts
ablation dcgan 5 1
cell dcgan 20 1
# The step-size question (issue 13): lpom's k = 20 cells under its own earlier protocol collapsed
# with Adam step 0.01 everywhere; the authors' step at k = 20 is 0.001. Regular Adam at 0.01 on the
# same generator and trials as the k = 20 cell's regular Adam answers whether the step decides it.
[ -s "$RES/dcgan-k20-g1-s$SEED-adam.json" ] && { surf "dcgan-k20-g1-s$SEED" adam-lr0.01 --method adam --lr 0.01 --steps 60000 || true; }
restarts_tuned dcgan 10 1   # is 10 restarts a fair split? (added 2026-12-05 after 10 × 671 solved 1.3%)
fair dcgan 5 1
restarts_tuned dcgan 5 1
# Every fair comparison is followed by restarts with R chosen on validation (added 2026-12-05,
# session 14, after 10 restarts solved 47.0 and 4.0% on WGAN and WGAN-GP k = 10: each restart
# shorter than regular Adam's mean descent there).
for model in wgan-gp wgan; do fair "$model" 10 1; restarts_tuned "$model" 10 1; done
# Table 1's last three cells before second generator seeds and the remaining fair comparisons
# (moved up 2026-12-05, session 15: the notebook opens with the 12-cell table). VAE first: cheap.
for model in vae wgan-gp wgan; do cell "$model" 20 1; done
fair wgan 5 1    # its equal-budget run is free: its regular Adam ran to 61,000 steps
restarts_tuned wgan 5 1
for model in dcgan wgan-gp wgan; do cell "$model" 5 2; done
# Compressed sensing at one m before second answers to the fair comparisons and the ablation
# (moved here 2026-12-05, session 17: it had no answer at all, and its five m are 25–33 CPU hours).
cs 100
fair wgan-gp 5 1; restarts_tuned wgan-gp 5 1
# DCGAN k = 20 next (moved up 2026-12-06, session 20): the generator with the most work left (its
# fair comparisons, compressed sensing's restarts and four more m), retrained in ≈ 0.5 h where the
# WGAN-GP and WGAN generators take 1–2.5 h; a session that trains it finishes more.
fair dcgan 20 1; restarts_tuned dcgan 20 1
cs_restarts 100
for k in 5 20; do
    for model in dcgan wgan-gp wgan; do fair "$model" "$k" 1; restarts_tuned "$model" "$k" 1; done
done
for model in wgan-gp wgan; do ablation "$model" 5 1; done
# WGAN k = 5's surfing falls 8.7 points short of the paper on both generator seeds: the generator's
# batch-norm running statistics as the released trainers leave them (forwards_of; added
# 2026-12-06, session 18), on generator seed 1's θ and trials.
# (moved after the fair comparisons and the ablation 2026-12-06, session 23: a side question)
cell wgan 5 1f2
# Compressed sensing, the other values of m: late units (`late` above), ≈ 7 CPU h each on this generator.
for m in 20 50 200 400; do late cs "$m"; done
# The paper's Fig. 4 at one m (cs_real above; added 2026-12-07, session 28), after the in-range
# values of m and before the third generator seed: a claim with no answer before a third answer
# to claims two seeds already agree on.
late cs_real 100
# Its fair peer (cs_real_restarts above; added 2026-12-07, session 31), before the third seed for
# the same reason: a claim made at 15.6 times the peer's steps has no equal-budget answer yet.
late cs_real_restarts 100
# A third generator seed of the GAN cells at k = 5 (issue 13: "at least 2 … 3 if affordable"; added
# 2026-12-07, session 25): after everything else, ≈ 6–12 CPU h (seed 2's three cells cost 4.4 h of
# inversion, seed 1's 10.7; a generator ≈ 0.3–0.6 h). Not late units: each trains its generator, so
# a stream reaches them only when the late units are done or held by the other.
for model in dcgan wgan-gp wgan; do cell "$model" 5 3; done
}

# Walk the order until a walk finishes nothing and finds nothing held by another stream; while
# the only work left waits for another stream's unit, look again every $WAIT seconds. Each time,
# the units on generators at hand first (HAVE_ONLY above), then the whole order.
done_count() { find "$RES" "$GEN" -maxdepth 1 \( -name '*.json' -o -name '*.h5' \) | wc -l; }
# walk_finished_a_unit: this walk (the full pass, started at WALK_START) has finished a unit.
walk_finished_a_unit() { (($(done_count) != WALK_START)); }
log "stream $STREAM: $SURF_THREADS worker(s) per surf run, $TRAIN_THREADS training thread(s), OpenBLAS kernels ${OPENBLAS_CORETYPE:-chosen by OpenBLAS}"
waiting=0
while :; do
    before=$(done_count); BUSY=0
    HAVE_ONLY=1 walk
    if (($(done_count) == before)); then WALK_START=$before HAVE_ONLY=0 walk; fi
    if (($(done_count) == before)); then
        ((BUSY)) || break
        ((waiting)) || log "stream $STREAM: waiting for another stream (a generator it trains, or the only units left)"
        waiting=1
        sleep "$WAIT"
    else
        waiting=0
    fi
done
log "stream $STREAM: nothing left to do$(compgen -G "$OUT/*.failed" > /dev/null || compgen -G "$GEN/*.failed" > /dev/null && echo " but the failed units (*.failed)")"
