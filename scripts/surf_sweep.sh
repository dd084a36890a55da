#!/usr/bin/env bash
# Starts, inspects or stops the Table-1 surfing sweep (scripts/surf_paper_table.sh) in the
# background, so a new session resumes it with one command:
#
#   bash scripts/surf_sweep.sh start     # resume (finished pieces and generators are skipped)
#   bash scripts/surf_sweep.sh status    # running or not, the last log lines, what has finished
#   bash scripts/surf_sweep.sh stop      # stop it (the piece under way is lost, nothing else)
#   bash scripts/surf_sweep.sh save      # copy the runs under way (their checkpoints and finished
#                                        # pieces, a few hundred KB) to $KEEP, to commit
#   bash scripts/surf_sweep.sh restore   # copy them back into runs/ (start does it first)
#
# Runs under way outlive the machine. A new machine has lost runs/ (generators, checkpoints): the
# generators are trained again and checked bit for bit, but a run of hours (compressed sensing's
# surfing: 3.5–7 CPU hours per m, by machine) would start over every session. `save` copies what each
# unfinished unit has done — its pieces' checkpoint directories (`lpom surf --checkpoint`: x,
# Adam's m and v, steps, per chunk) and its finished pieces' JSON — to $KEEP (in git); `start`
# copies them back where runs/ has none. A checkpoint names its generator by a digest of the
# final network (not the history's path), so it continues on the history trained again, and is
# refused, with one line, on any other. Units finished since are dropped from $KEEP by `save`.
#
# `start` runs copies under $ROOT/bin (the sweep never sees a rebuild or an edit mid-run): the
# scripts are refreshed from scripts/ each time; the binary is copied from .build/release/lpom
# only when $ROOT/bin/lpom is missing or with FRESH_BINARY=1 (the pieces of one run should come
# from one binary). STREAMS (default 2) copies of the sweep run at once, each taking the next unit
# no other holds (scripts/surf_paper_table.sh, "Streams"), with one worker per surf run and one
# training thread; STREAMS=1 runs one copy with SURF_THREADS (default 2) workers. The log is
# $ROOT/sweep.log, every line tagged with its stream.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${ROOT:-runs/paper}
BIN=$ROOT/bin
LOG=$ROOT/sweep.log
KEEP=${KEEP:-notebooks-md/03-results/in-progress}
RES=${RES:-notebooks-md/03-results}
running() { pgrep -f "$BIN/surf_paper_table.sh" > /dev/null; }

# The saved progress of the units not finished: UNIT.pieces/ (finished pieces' JSON, checkpoint
# directories), from $1 to $2, skipping what $2 already has (a newer state) and finished units.
copy_progress() {
    local from=$1 to=$2 d unit f n=0
    for d in "$from"/*.pieces; do
        [ -d "$d" ] || continue
        unit=$(basename "$d" .pieces)
        [ -s "$RES/$unit.json" ] && continue
        for f in "$d"/[0-9]*-[0-9]*.json "$d"/[0-9]*-[0-9]*.ckpt; do
            [ -e "$f" ] || continue
            [ -e "$to/$unit.pieces/$(basename "$f")" ] && continue
            # a piece already finished there needs no checkpoint
            [ "${f%.ckpt}" != "$f" ] && [ -s "$to/$unit.pieces/$(basename "${f%.ckpt}").json" ] && continue
            mkdir -p "$to/$unit.pieces"
            local tmp="$to/$unit.pieces/.tmp-$(basename "$f")"
            rm -rf "$tmp"   # left by an interrupted copy (cp -r into it would nest)
            cp -r "$f" "$tmp" && mv "$tmp" "$to/$unit.pieces/$(basename "$f")"
            n=$((n + 1))
        done
    done
    echo "$n"
}

restore_progress() {
    [ -d "$KEEP" ] || return 0
    mkdir -p "$ROOT/surf"
    local n; n=$(copy_progress "$KEEP" "$ROOT/surf")
    ((n == 0)) || echo "surf_sweep: continuing $n saved piece(s) and checkpoint(s) from $KEEP"
}

case "${1:-status}" in
save)
    # A fresh copy: the saved state of every unit not finished, nothing else.
    tmp=$KEEP.new; rm -rf "$tmp"; mkdir -p "$tmp"
    n=$(copy_progress "$ROOT/surf" "$tmp")
    rm -rf "$KEEP"
    if ((n > 0)); then mv "$tmp" "$KEEP"; else rm -rf "$tmp"; fi
    echo "surf_sweep: saved $n piece(s) and checkpoint(s) of unfinished runs in $KEEP ($(du -sh "$KEEP" 2>/dev/null | cut -f1 || echo 0)); commit it"
    ;;
restore)
    restore_progress ;;
start)
    if running; then echo "surf_sweep: already running (bash scripts/surf_sweep.sh status)"; exit 0; fi
    restore_progress
    mkdir -p "$BIN"
    if [ ! -x "$BIN/lpom" ] || [ "${FRESH_BINARY:-0}" = 1 ]; then
        [ -x .build/release/lpom ] || swift build -c release
        cp .build/release/lpom "$BIN/lpom.new" && mv "$BIN/lpom.new" "$BIN/lpom"
    fi
    for f in surf_paper_table.sh surf_merge_pieces.py surf_cap.py surf_retrain_check.py surf_recon_png.py; do
        cp "scripts/$f" "$BIN/$f.new" && mv "$BIN/$f.new" "$BIN/$f"   # a new file: a running copy keeps its own
    done
    rm -f "$ROOT"/surf/*/*.json.tmp "$ROOT"/surf/*.failed "$ROOT"/gen/*.failed   # retry what failed last time
    streams=${STREAMS:-2}
    if ((streams == 1)); then threads=${SURF_THREADS:-2}; else threads=${SURF_THREADS:-1}; fi
    for i in $(seq 1 "$streams"); do
        STREAM=$i SURF_THREADS=$threads REPO=$PWD nohup nice -n 19 bash "$BIN/surf_paper_table.sh" >> "$LOG" 2>&1 &
        echo "surf_sweep: started stream $i (pid $!, $threads worker(s) per run), log $LOG"
        sleep 2   # the first takes its unit before the next looks
    done
    ;;
status)
    # eta PROGRESS CPU_MIN: on the intermediate networks, their rest at the rate so far (the final
    # network's steps come after, and depend on how many trials stop early).
    eta() {
        awk -v p="$1" -v c="$2" 'BEGIN { if (match(p, /intermediate network [0-9]+ of [0-9]+ done/)) {
            split(substr(p, RSTART, RLENGTH), w, " "); d = w[3]; n = w[5]
            if (d > 0 && c > 0 && n > d) printf " (≈ %.1f CPU h more for networks %d–%d at this rate, then the final network)", c / d * (n - d) / 60, d + 1, n } }'
    }
    if running; then echo "surf_sweep: running"; else echo "surf_sweep: not running"; fi
    ps -o etime=,time=,args= -C lpom 2>/dev/null | grep -F "$BIN/lpom" | cut -c1-160 | sed 's/^/  /' || true
    [ -f "$LOG" ] && tail -n 5 "$LOG" | sed 's/^/  /'
    # How far each run under way is, from its checkpoint (saved every 1,000 steps), as
    # `lpom inspect DIR` reads it (this checkout's build; the running copy if there is none).
    LPOM=.build/release/lpom; [ -x "$LPOM" ] || LPOM=$BIN/lpom
    for ck in "$ROOT"/surf/*.pieces/*.ckpt; do
        # finished: a kept checkpoint beside its piece's result
        [ -f "$ck/clock.json" ] && [ ! -f "${ck%.ckpt}.json" ] || continue
        report=$("$LPOM" inspect "$ck" 2>/dev/null) || continue
        name=$(basename "$(dirname "$ck")" .pieces)
        unit="$name trials $(basename "$ck" .ckpt | tr - :)"
        progress=$(sed -n 's/^progress *//p' <<< "$report")
        cpu=$(sed -n 's/^time *\([0-9.]*\) CPU min.*/\1/p' <<< "$report")
        # on the final network, regular Adam's or the restarts' steps left: their budget is in the
        # options of the unit's last "surf GEN UNIT trials A:B ...: OPTIONS" line in the log
        opts=$(awk -v u="$name" '$3 == "surf" && $4 "-" $5 == u {
            sub(/.*worker\(s\): /, ""); a = $0 } END { print a }' "$LOG" 2>/dev/null || true)
        left=$("$LPOM" inspect "$ck" --json 2>/dev/null | python3 scripts/surf_eta.py "$opts" || true)
        # finished while this ran: the run removes its checkpoint as it writes its result
        [ -f "$ck/clock.json" ] || continue
        # not saved for half an hour (a checkpoint every 1,000 steps): no stream runs it now
        if [ -n "$(find "$ck/clock.json" -mmin -30 2>/dev/null)" ]; then
            echo "  under way: $unit: $progress; $cpu CPU min so far$(eta "$progress" "$cpu")$left"
        else
            echo "  paused: $unit: $progress; $cpu CPU min so far (not saved for half an hour: no stream runs it now)$left"
        fi
    done
    # Each generator whose training has begun: its last snapshot, and the rest at the rate since
    # this invocation started (`lpom inspect --json`: snapshot steps, provenance); paused when no
    # stream holds its lock, however long ago it was written.
    for part in "$ROOT"/gen/*.h5.part; do
        [ -f "$part" ] || continue
        # not held: no stream trains it now (it waits for the generators at hand to be used first)
        paused=0
        if [ -e "${part%.part}.lock" ] && ( flock -n 9 ) 9< "${part%.part}.lock"; then paused=1; fi
        "$LPOM" inspect "$part" --json 2>/dev/null | python3 -c '
import datetime as dt, json, sys
d = json.load(sys.stdin); name, paused = sys.argv[1], sys.argv[2] == "1"
step, total, last = d["snapshot_steps"][-1], d["training"]["steps"], d["provenance"][-1]
if paused:
    sys.exit(print("  paused: %s: snapshot at step %d of %d (no stream trains it now)" % (name, step, total)))
start = dt.datetime.fromisoformat(last["date"].replace("Z", "+00:00"))
hours = (dt.datetime.now(dt.timezone.utc) - start).total_seconds() / 3600
done = step - last.get("from_step", 0)
eta = " (≈ %.1f h more at %.0f steps an hour)" % ((total - step) / (done / hours), done / hours) if done > 0 and hours > 0 else ""
print("  training: %s: snapshot at step %d of %d%s" % (name, step, total, eta))' "$(basename "$part" .h5.part)" "$paused" || true
    done
    python3 scripts/surf_paper_summary.py notebooks-md/03-results | grep -E "cells finished" || true
    ;;
stop)
    pkill -f "$BIN/surf_paper_table.sh" || true
    pkill -f "$BIN/lpom" || true
    echo "surf_sweep: stopped"
    ;;
*)
    echo "usage: bash scripts/surf_sweep.sh start|status|stop|save|restore" >&2; exit 2 ;;
esac
