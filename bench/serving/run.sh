#!/usr/bin/env bash
# Side-by-side serving benchmark: a bare net/http handler, Ferry's Open
# Inference Protocol and MLflow scoring paths, and Flask + gunicorn +
# python-xgboost, all serving XGBoost (100 trees, depth 6, 30 features)
# on this machine, measured with wrk over loopback. See README.md.
#
# Environment (all optional):
#   DURATION=10s          measured time per target and concurrency
#   WARMUP=2s             unmeasured wrk run before each measurement
#   CONNS="1 8 32 64"     concurrencies (wrk connections)
#   GUNICORN_WORKERS="2 4" gunicorn worker counts to measure
#   FLASK_OMP_THREADS=1   OMP_NUM_THREADS of each gunicorn worker
#   FERRY_EXTRA_ARGS=""   extra arguments for `ferry server` (target ferry-*)
#   FERRY_ALT_ARGS=""     when set, a second Ferry started with these
#                         arguments is measured too (targets ferry-alt-*),
#                         e.g. prediction logging on vs off in one run
#   TARGETS="..."         subset of: bare-oip ferry-oip bare-mlflow
#                         ferry-mlflow flask (+ ferry-alt-oip ferry-alt-mlflow)
#   OUT=bench/serving/results.md   where the markdown table is written
#   PYTHON                python with xgboost, sklearn, pandas, flask, gunicorn
#   KEEP_TMP=1            keep the temporary directory (logs, model, data)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-"1 8 32 64"}
GUNICORN_WORKERS=${GUNICORN_WORKERS:-"2 4"}
FLASK_OMP_THREADS=${FLASK_OMP_THREADS:-1}
FERRY_EXTRA_ARGS=${FERRY_EXTRA_ARGS:-}
FERRY_ALT_ARGS=${FERRY_ALT_ARGS:-}
OUT=${OUT:-$HERE/results.md}
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the work tree
APT_LINE="apt-get install -y wrk python3-xgboost python3-sklearn python3-flask gunicorn"

log() { printf '%s\n' "$*" >&2; }
die() { log "run.sh: $*"; exit 1; }

# ---- 1. tools ---------------------------------------------------------------
missing=()
for t in wrk go curl; do
	command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
PY=""
for cand in ${PYTHON:-} python3 /usr/bin/python3; do
	if command -v "$cand" >/dev/null 2>&1 &&
		"$cand" -c 'import xgboost, sklearn, pandas, flask, gunicorn' >/dev/null 2>&1; then
		PY=$(command -v "$cand")
		break
	fi
done
[[ -n $PY ]] || missing+=("python3 with xgboost, sklearn, pandas, flask and gunicorn")
if ((${#missing[@]})); then
	log "missing: ${missing[*]}"
	log "install them with:"
	log "  $APT_LINE"
	exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-serving-bench.XXXXXX")
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n ${KEEP_TMP:-} ]]; then
		log "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL: polls until URL answers (any HTTP status) or 30 s pass.
wait_http() {
	local deadline=$((SECONDS + 30))
	until curl -s -o /dev/null "$1"; do
		((SECONDS < deadline)) || die "$1 did not come up; logs in $TMP"
		sleep 0.1
	done
}

# jget EXPR: evaluates a Python expression over the JSON document on stdin (j).
jget() { "$PY" -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# api URL PATH JSON: POSTs JSON to one of Ferry's JSON APIs, fails loudly.
api() { curl -sS --fail-with-body -H 'Content-Type: application/json' -d "$3" "$1$2"; }

# ---- 2. model and request bodies --------------------------------------------
log "== training (python: $PY)"
"$PY" "$HERE/train.py" "$TMP" >&2
EXPECTED=$(jget 'j["prediction"]' <"$TMP/expected.json")
XGB_VERSION=$(jget 'j["xgboost"]' <"$TMP/expected.json")

# ---- 3. Ferry ---------------------------------------------------------------
log "== building ferry and ferrybench"
(cd "$ROOT" && go build -o "$TMP/ferry" ./cmd/ferry && go build -o "$TMP/ferrybench" ./cmd/ferrybench)

# start_ferry NAME ARGS: starts a Ferry server, registers the model and
# deploys it as endpoint "bench"; sets FERRY_URL_<NAME>.
start_ferry() {
	local name=$1 extra=$2 port url
	port=$(free_port)
	url="http://127.0.0.1:$port"
	local -a args
	read -r -a args <<<"$extra"
	log "== starting $name: ferry server --addr 127.0.0.1:$port ${args[*]}"
	"$TMP/ferry" server --data "$TMP/$name-data" --addr "127.0.0.1:$port" "${args[@]}" >"$TMP/$name.log" 2>&1 &
	PIDS+=($!)
	wait_http "$url/health"

	local exp run f
	exp=$(api "$url" /api/2.0/mlflow/experiments/create '{"name": "serving-bench"}' | jget 'j["experiment_id"]')
	run=$(api "$url" /api/2.0/mlflow/runs/create "{\"experiment_id\": \"$exp\", \"start_time\": $(date +%s)000}" |
		jget 'j["run"]["info"]["run_id"]')
	for f in MLmodel model.json; do
		curl -sS --fail-with-body -X PUT --data-binary "@$TMP/model/$f" \
			"$url/api/2.0/mlflow-artifacts/artifacts/$exp/$run/artifacts/model/$f" >/dev/null
	done
	api "$url" /api/2.0/mlflow/registered-models/create '{"name": "bench"}' >/dev/null
	api "$url" /api/2.0/mlflow/model-versions/create \
		"{\"name\": \"bench\", \"source\": \"runs:/$run/model\", \"run_id\": \"$run\"}" >/dev/null
	FERRY_URL=$url "$TMP/ferry" deploy bench --model models:/bench/1 >&2
	# The training data is the endpoint's drift reference: a server with
	# monitoring on checks the logged traffic against it every tick.
	FERRY_URL=$url "$TMP/ferry" data add bench-train "$TMP/train.csv" >&2
	curl -sS --fail-with-body -X PUT -H 'Content-Type: application/json' -d '{"dataset": "bench-train@1"}' \
		"$url/api/v1/endpoints/bench/reference" >/dev/null
	printf -v "FERRY_URL_${name//-/_}" '%s' "$url"
}

# check_pred NAME URL BODY EXPR: one request must predict EXPECTED to 1e-6.
check_pred() {
	local got
	got=$(curl -sS --fail-with-body -H 'Content-Type: application/json' --data-binary "@$3" "$2" | jget "$4") ||
		die "$1: request to $2 failed"
	"$PY" -c 'import sys; g, w = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(g - w) > 1e-6)' "$got" "$EXPECTED" ||
		die "$1 predicts $got for the sample row, python-xgboost $EXPECTED: not measuring"
	log "   $1 predicts $got (python-xgboost $EXPECTED): ok"
}

declare -A URL BODY
start_ferry ferry "$FERRY_EXTRA_ARGS"
URL[ferry-oip]="$FERRY_URL_ferry/v2/models/bench/infer"
URL[ferry-mlflow]="$FERRY_URL_ferry/endpoints/bench/invocations"
if [[ -n $FERRY_ALT_ARGS ]]; then
	start_ferry ferry-alt "$FERRY_ALT_ARGS"
	URL[ferry-alt-oip]="$FERRY_URL_ferry_alt/v2/models/bench/infer"
	URL[ferry-alt-mlflow]="$FERRY_URL_ferry_alt/endpoints/bench/invocations"
fi

# ---- 4. baselines -----------------------------------------------------------
for fmt in oip mlflow; do
	port=$(free_port)
	"$TMP/ferrybench" bare --addr "127.0.0.1:$port" --format "$fmt" >"$TMP/bare-$fmt.log" 2>&1 &
	PIDS+=($!)
	if [[ $fmt == oip ]]; then
		URL[bare-oip]="http://127.0.0.1:$port/v2/models/bench/infer"
	else
		URL[bare-mlflow]="http://127.0.0.1:$port/endpoints/bench/invocations"
	fi
	wait_http "http://127.0.0.1:$port/"
done
FLASK_TARGETS=()
for w in $GUNICORN_WORKERS; do
	port=$(free_port)
	(cd "$HERE" && BENCH_MODEL="$TMP/model/model.json" OMP_NUM_THREADS=$FLASK_OMP_THREADS exec "$PY" -m gunicorn -w "$w" --threads 1 \
		-b "127.0.0.1:$port" --log-level warning flask_app:app) >"$TMP/flask-w$w.log" 2>&1 &
	PIDS+=($!)
	URL[flask-w$w]="http://127.0.0.1:$port/invocations"
	FLASK_TARGETS+=("flask-w$w")
	wait_http "http://127.0.0.1:$port/"
done

for t in "${!URL[@]}"; do
	case $t in *oip) BODY[$t]=$TMP/oip.json ;; *) BODY[$t]=$TMP/mlflow.json ;; esac
done

log "== checking predictions"
check_pred ferry-oip "${URL[ferry-oip]}" "$TMP/oip.json" 'j["outputs"][0]["data"][0]'
check_pred ferry-mlflow "${URL[ferry-mlflow]}" "$TMP/mlflow.json" 'j["predictions"][0]'
if [[ -n $FERRY_ALT_ARGS ]]; then
	check_pred ferry-alt-oip "${URL[ferry-alt-oip]}" "$TMP/oip.json" 'j["outputs"][0]["data"][0]'
	check_pred ferry-alt-mlflow "${URL[ferry-alt-mlflow]}" "$TMP/mlflow.json" 'j["predictions"][0]'
fi
for t in "${FLASK_TARGETS[@]}"; do
	check_pred "$t" "${URL[$t]}" "$TMP/mlflow.json" 'j["predictions"][0]'
done
for t in bare-oip bare-mlflow; do
	curl -sS --fail-with-body -o /dev/null -H 'Content-Type: application/json' --data-binary "@${BODY[$t]}" "${URL[$t]}" ||
		die "$t does not answer"
done

# ---- 5. measurements --------------------------------------------------------
ORDER=(bare-oip ferry-oip)
[[ -n $FERRY_ALT_ARGS ]] && ORDER+=(ferry-alt-oip)
ORDER+=(bare-mlflow ferry-mlflow)
[[ -n $FERRY_ALT_ARGS ]] && ORDER+=(ferry-alt-mlflow)
ORDER+=("${FLASK_TARGETS[@]}")
if [[ -n ${TARGETS:-} ]]; then
	sel=()
	for t in "${ORDER[@]}"; do
		for want in $TARGETS; do
			[[ $t == "$want" || ($want == flask && $t == flask-*) ]] && sel+=("$t")
		done
	done
	ORDER=("${sel[@]}")
fi

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "== measuring (load average before: $LOAD_BEFORE)"
RESULTS=$TMP/results.tsv
: >"$RESULTS"
# Concurrency outside, targets inside: the cells compared with each other
# are measured minutes apart at most, whatever else the machine does.
ci=0
for c in $CONNS; do
	ti=0
	for t in "${ORDER[@]}"; do
		threads=$((c < 2 ? c : 2)) # wrk needs at least one connection per thread
		wrk -t "$threads" -c "$c" -d "$WARMUP" -s "$HERE/post.lua" "${URL[$t]}" -- "${BODY[$t]}" >/dev/null
		wrk -t "$threads" -c "$c" -d "$DURATION" --latency -s "$HERE/post.lua" "${URL[$t]}" -- "${BODY[$t]}" \
			>"$TMP/wrk-$t-c$c.txt"
		line=$(grep '^BENCH ' "$TMP/wrk-$t-c$c.txt") || die "no result from wrk for $t at $c connections"
		# BENCH requests= duration_us= rps= p50_us= p99_us= errors= non2xx=
		read -r rps p50 p99 errs non2xx < <(awk '{for (i = 2; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
			print v["rps"], v["p50_us"], v["p99_us"], v["errors"], v["non2xx"]}' <<<"$line")
		printf '%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ti" "$ci" "$t" "$c" "$rps" "$p50" "$p99" "$errs" "$non2xx" >>"$RESULTS"
		log "   $t c=$c: $rps req/s, p50 ${p50} us, p99 ${p99} us, socket errors $errs, non-2xx $non2xx"
		ti=$((ti + 1))
	done
	ci=$((ci + 1))
done
sort -t $'\t' -k1,1n -k2,2n "$RESULTS" | cut -f3- >"$RESULTS.sorted"

# ---- 6. report --------------------------------------------------------------
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
{
	echo "# Serving benchmark"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores (${cpu:-unknown CPU}); $(go env GOVERSION); python-xgboost $XGB_VERSION;"
	echo "wrk -t 2 (-t 1 at 1 connection) over loopback, ${DURATION} per cell after ${WARMUP} of warm-up;"
	args="ferry server args: \`${FERRY_EXTRA_ARGS:-(none)}\`"
	[[ -z $FERRY_ALT_ARGS ]] || args+="; ferry-alt server args: \`$FERRY_ALT_ARGS\`"
	echo "wrk and the servers share the cores. $args; gunicorn workers with OMP_NUM_THREADS=$FLASK_OMP_THREADS."
	echo "Load average before the measurements: $LOAD_BEFORE, after: $LOAD_AFTER (anything else running skews the numbers)."
	echo
	echo "| target | conns | req/s | p50 | p99 | % of bare | errors |"
	echo "|---|---:|---:|---:|---:|---:|---|"
	awk -F'\t' '
		{ t[NR] = $1; c[NR] = $2; r[NR] = $3; p50[NR] = $4; p99[NR] = $5; e[NR] = $6; n[NR] = $7
		  if ($1 == "bare-oip" || $1 == "bare-mlflow") bare[$1, $2] = $3 }
		function ms(us) { return sprintf("%.3f ms", us / 1000) }
		END {
			for (i = 1; i <= NR; i++) {
				ref = (t[i] ~ /oip$/) ? "bare-oip" : "bare-mlflow"
				pct = ((ref, c[i]) in bare && bare[ref, c[i]] > 0) ? sprintf("%.1f%%", 100 * r[i] / bare[ref, c[i]]) : "-"
				err = (e[i] + n[i] > 0) ? sprintf("%d socket, %d non-2xx", e[i], n[i]) : ""
				printf "| %s | %d | %.0f | %s | %s | %s | %s |\n", t[i], c[i], r[i], ms(p50[i]), ms(p99[i]), pct, err
			}
		}' "$RESULTS.sorted"
	echo
	echo "% of bare: Open Inference Protocol targets against bare-oip, MLflow-body targets (ferry-mlflow, flask) against"
	echo "bare-mlflow, at the same number of connections."
	echo
	echo "Issue 4's targets (at 32 connections unless said; a drop is a fall below 95% of the best at fewer connections):"
	echo
	awk -F'\t' '
		{ r[$1, $2] = $3; p50[$1, $2] = $4; p99[$1, $2] = $5; if (!($1 in seen)) { seen[$1] = 1; order[++nt] = $1 }
		  conns[$2] = 1 }
		function verdict(ok) { return ok ? "met" : "MISSED" }
		function has(t, c) { return ((t, c) in r) }
		END {
			for (i = 1; i <= nt; i++) {
				t = order[i]
				if (t !~ /^ferry/) continue
				ref = (t ~ /oip$/) ? "bare-oip" : "bare-mlflow"
				want = (t ~ /oip$/) ? 90 : 80
				if (has(t, 32) && has(ref, 32) && r[ref, 32] > 0) {
					pct = 100 * r[t, 32] / r[ref, 32]
					printf "* %s: %.1f%% of %s (target >= %d%%): %s\n", t, pct, ref, want, verdict(pct >= want)
				}
				if (has(t, 1)) printf "* %s: median latency at 1 connection %.3f ms (target <= 0.1 ms): %s\n", t, p50[t, 1] / 1000, verdict(p50[t, 1] <= 100)
				if (has(t, 32)) printf "* %s: p99 at 32 connections %.3f ms (target < 5 ms): %s\n", t, p99[t, 32] / 1000, verdict(p99[t, 32] < 5000)
				best = 0; drop = ""
				for (c = 1; c <= 1024; c++) {
					if (!has(t, c)) continue
					if (best > 0 && r[t, c] < 0.95 * best) drop = drop sprintf(" %d conns: %.0f req/s after %.0f;", c, r[t, c], best)
					if (r[t, c] > best) best = r[t, c]
				}
				printf "* %s: throughput as concurrency rises: %s\n", t, drop == "" ? "no drop" : "DROP at" drop
			}
			fb = ""; fr = 0
			for (i = 1; i <= nt; i++) if (order[i] ~ /^flask/ && has(order[i], 32) && r[order[i], 32] > fr) { fb = order[i]; fr = r[fb, 32] }
			if (fb != "") {
				printf "* best gunicorn worker count at 32 connections: %s, %.0f req/s", fb, fr
				if (has("ferry-mlflow", 32)) printf "; ferry-mlflow serves %.1fx that", r["ferry-mlflow", 32] / fr
				printf "\n"
			}
		}' "$RESULTS.sorted"
} >"$TMP/table.md"
cp "$TMP/table.md" "$OUT"
cat "$TMP/table.md"
log "written to $OUT; wrk outputs and server logs in $TMP${KEEP_TMP:+ (kept)}"
