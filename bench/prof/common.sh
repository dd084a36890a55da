# Sourced by record-*.sh: pause the RUNNING nice-19 `lpom train`/`lpom surf` jobs (never those already
# stopped, state T) for at most ~9 minutes, resume them on exit (trap) or by a watchdog, and define
# rec NAME CMD… = perf record -g of CMD into $P/NAME.data with the load before and after.
# PROF_DIR (default runs/prof) holds the data and a copy of the release binary ($L), made
# when missing so that rebuilding the checkout does not change what is profiled; DATA the data.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
P=${PROF_DIR:-$PWD/runs/prof}; L=$P/lpom; D=${DATA:-$PWD/data}
mkdir -p "$P"; [ -x "$L" ] || cp .build/release/lpom "$L"
paused=()
for pid in $(ps -eo pid=,ni=,stat=,comm= | awk '$2==19 && $3 !~ /^T/ && $4=="lpom" {print $1}'); do
  if tr '\0' ' ' < /proc/$pid/cmdline | grep -qE 'lpom (train|surf)'; then paused+=($pid); fi
done
resume() { for p in "${paused[@]}"; do kill -CONT "$p" 2>/dev/null; done; echo "resumed: ${paused[*]} at $(date -u +%T)"; }
trap resume EXIT INT TERM
( sleep 560; for p in "${paused[@]}"; do kill -CONT "$p" 2>/dev/null; done ) & wd=$!
for p in "${paused[@]}"; do kill -STOP "$p"; done
echo "paused: ${paused[*]} at $(date -u +%T)"
sleep 5
rec() { local name=$1; shift; echo "== $name start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg); others: $(ps -eo ni=,pcpu=,comm= --sort=-pcpu | awk '$1<19 && $2>20' | head -3 | tr '\n' ';')"
  perf record -F ${FREQ:-1999} -g -o $P/$name.data -- "$@" > $P/$name.out 2> $P/$name.err
  echo "== $name end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"; tail -c 600 $P/$name.out; echo; }
