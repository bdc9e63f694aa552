#!/usr/bin/env bash
# Closing the loop, end to end, against a running server:
#
#   ferry server --policy-file examples/breast-cancer/policy.yaml \
#                --alert-rules examples/breast-cancer/alerts.yaml &
#   examples/breast-cancer/closed-loop.sh
#
# 1. version 1 is trained on the cancer dataset and deployed; its
#    training data is the endpoint's drift reference;
# 2. a new instrument measures every feature 1.5 times larger: its
#    labelled data arrives as version 2 of the dataset, and its
#    measurements reach the endpoint (drift injected into live traffic);
# 3. the data-drift alert fires after its `for` (2 minutes) and starts the
#    registered retraining pipeline;
# 4. the new version passes the policy gate (ROC AUC >= 0.95), goes out
#    as a canary (10 %, 50 %, 100 %, 20 s each) and promotes itself;
# 5. its training data becomes the reference and the alert resolves.
#
# FERRY (default: ferry) is the command; FERRY_URL the server.
set -euo pipefail
cd "$(dirname "$0")"
FERRY=${FERRY:-ferry}
URL=${FERRY_URL:-http://localhost:5000}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

$FERRY data add cancer data/cancer.csv
$FERRY pipeline register retrain.yaml --param steps=10,50,100 --param interval=20s
$FERRY pipeline run retrain.yaml --param steps=10,50,100 --param interval=20s
curl -fsS "$URL/api/v1/endpoints/cancer/reference"; echo

# The new instrument: labelled data and live traffic, 1.5 times larger.
awk -F, -v OFS=, 'NR == 1 { print; next } { for (i = 1; i < NF; i++) $i = $i * 1.5; print }' \
  data/cancer.csv > "$work/cancer-v2.csv"
$FERRY data add cancer "$work/cancer-v2.csv"
cols=$(head -1 data/cancer.csv | awk -F, '{ for (i = 1; i < NF; i++) printf "%s\"%s\"", (i > 1 ? "," : ""), $i }')
awk -F, 'NR > 1 { printf "["; for (i = 1; i < NF; i++) printf "%s%s", (i > 1 ? "," : ""), $i * 1.5; print "]" }' \
  data/cancer.csv > "$work/rows"
(
  while true; do
    while read -r row; do
      curl -fsS -o /dev/null "$URL/endpoints/cancer/invocations" -H 'Content-Type: application/json' \
        -d "{\"dataframe_split\": {\"columns\": [$cols], \"data\": [$row]}}" || true
      sleep 0.05
    done < "$work/rows"
  done
) &

echo "traffic drifts; waiting for the alert, the retraining and the canary..."
for _ in $(seq 1 120); do
  # The deployment's own version (its first "version"), not the candidate's.
  version=$(curl -fsS "$URL/api/v1/endpoints/cancer" | sed -n 's/^{"deployment":{"endpoint":"cancer","model":"cancer","version":\([0-9]*\).*/\1/p')
  [ "$version" = 2 ] && break
  sleep 5
done
[ "$version" = 2 ] || { echo "version 2 was not promoted" >&2; exit 1; }

curl -fsS "$URL/api/v1/alerts/history?rule=data-drift&max_results=20"; echo
$FERRY pipeline runs
$FERRY endpoints status cancer
$FERRY lineage models:/cancer/2
