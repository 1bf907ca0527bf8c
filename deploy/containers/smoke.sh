#!/usr/bin/env bash
# Smoke test of the containerised system, through the ingress as a user of the cluster would (the
# API host app.fidpass.localhost, the web-space host espace.fidpass.localhost; ./fidpass containers
# points GATEWAY and WEB there): an operator creates a merchant, the till scans a card (compat API),
# sells by card on the fake Stripe and in cash on the Cashlogy simulator; each sale of the same amount
# must credit the member exactly what the scan credited, once (nothing more arrives later). The web
# space must answer on its host, and neither host may expose metrics.
# Env: GATEWAY (http://127.0.0.1:6080), WEB, FAKE_STRIPE, CASHLOGY_CONTROL, ADMIN_KEY.
set -euo pipefail
GATEWAY=${GATEWAY:-http://127.0.0.1:6080}
WEB=${WEB:-http://127.0.0.1:6081}
FAKE_STRIPE=${FAKE_STRIPE:-http://127.0.0.1:6111}
CASHLOGY_CONTROL=${CASHLOGY_CONTROL:-http://127.0.0.1:6092}
ADMIN_KEY=${ADMIN_KEY:-change-me-local-admin-key}
AMOUNT=1250

step() { printf '  %s\n' "$*" >&2; }
fail() { printf 'SMOKE FAILED: %s\n' "$*" >&2; exit 1; }
# api METHOD PATH [JSON] [curl args…]: the body on stdout; fails on a non-2xx answer.
api() {
  local method=$1 path=$2 body=${3:-} out code
  out=$(mktemp)
  code=$(curl -sS -m 15 -o "$out" -w '%{http_code}' -X "$method" -H 'Content-Type: application/json' \
    ${body:+--data "$body"} "${@:4}" "$GATEWAY$path") || code=000
  [[ $code == 2* ]] || { cat "$out" >&2; rm -f "$out"; fail "$method $path answered $code"; }
  cat "$out"; rm -f "$out"
}
# until_ok SECONDS COMMAND…: retries a command (quietly) until it succeeds.
until_ok() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ "$SECONDS" -lt "$deadline" ] || return 1; sleep 1; done
}

step "operator creates a merchant"
merchant=$(api POST /api/v1/admin/merchants "{\"name\":\"Smoke $RANDOM\",\"email\":\"smoke@example.fr\"}" -H "Authorization: Bearer $ADMIN_KEY")
slug=$(jq -r .slug <<<"$merchant"); dash=$(jq -r .dashboardToken <<<"$merchant")
key=$(api POST "/api/v1/merchants/$slug/integration-keys" '{"name":"Caisse smoke","scopes":["scan","lookup","terminal","cash"]}' -H "X-Dashboard-Token: $dash" | jq -r .key)
member=$(api POST "/api/v1/merchants/$slug/members/import" '[{"name":"Client smoke","email":"client.smoke@example.fr"}]' -H "X-Dashboard-Token: $dash" | jq -r '.[0].memberId')
till=(-H "Authorization: Bearer $key")
points() { api GET "/api/businesses/$slug/integration/lookup?barcode=$member" '' "${till[@]}" | jq -r .member.points; }
# settles SECONDS EXPECTED: the member's points reach EXPECTED, and stay there (credited once).
settles() {
  local deadline=$((SECONDS + $1)) now
  until [ "$(points)" = "$2" ]; do [ "$SECONDS" -lt "$deadline" ] || fail "points $(points), expected $2"; sleep 1; done
  sleep 5; now=$(points); [ "$now" = "$2" ] || fail "points went on to $now after reaching $2 (credited twice)"
}

step "compat scan"
api POST "/api/businesses/$slug/integration/scan" "{\"barcode\":\"$member\",\"amount_eur\":\"12.50\"}" "${till[@]}" -H "Idempotency-Key: smoke-scan-$slug" >/dev/null
per_sale=$(points); [ "$per_sale" -gt 0 ] || fail "the scan credited no points"

step "card sale on the fake Stripe"
reader=""
until_ok 60 bash -c "[ -n \"\$(curl -fsS -m 5 -H 'Authorization: Bearer $key' '$GATEWAY/api/v1/merchants/$slug/terminal/readers' | jq -r '.[0].id // empty')\" ]" \
  || fail "the merchant got no simulated reader"
reader=$(api GET "/api/v1/merchants/$slug/terminal/readers" '' "${till[@]}" | jq -r '.[0].id')
api POST "/api/v1/merchants/$slug/terminal/payments" "{\"saleId\":\"smoke-card-$slug\",\"amount\":$AMOUNT,\"currency\":\"eur\",\"readerId\":\"$reader\",\"memberBarcode\":\"$member\"}" "${till[@]}" >/dev/null
until_ok 30 curl -fsS -m 5 -X POST "$FAKE_STRIPE/__fake/readers/$reader/present?number=4242424242424242" || fail "the fake reader refused the card"
until_ok 60 bash -c "[ \"\$(curl -fsS -m 5 -H 'Authorization: Bearer $key' '$GATEWAY/api/v1/merchants/$slug/terminal/payments/smoke-card-$slug' | jq -r .status)\" = succeeded ]" \
  || fail "the card sale did not succeed"
settles 60 $((per_sale * 2))

step "cash sale on the Cashlogy simulator"
machine=$(api POST "/api/v1/merchants/$slug/cash/machines" '{"name":"Cashlogy smoke","host":"cashlogy-simulator","port":8092,"tillCode":"1","mode":"express"}' "${till[@]}" | jq -r .id)
machine_path=/api/v1/merchants/$slug/cash/machines/$machine
until_ok 60 bash -c "[ \"\$(curl -fsS -m 5 -H 'Authorization: Bearer $key' '$GATEWAY$machine_path' | jq -r .status)\" = ready ]" || fail "the cash machine never became ready"
operation=$(api POST "$machine_path/charges" "{\"requestId\":\"smoke-cash-$slug\",\"amount\":$AMOUNT,\"memberBarcode\":\"$member\"}" "${till[@]}" | jq -r .operationId)
until_ok 30 curl -fsS -m 5 -X POST -H 'Content-Type: application/json' --data "{\"amount\":$AMOUNT}" "$CASHLOGY_CONTROL/control/insert" || fail "the simulator refused the cash"
until_ok 60 bash -c "[ \"\$(curl -fsS -m 5 -H 'Authorization: Bearer $key' '$GATEWAY/api/v1/merchants/$slug/cash/operations/$operation' | jq -r .status)\" = settled ]" \
  || fail "the cash sale did not settle"
settles 60 $((per_sale * 3))

step "web space"
status() { curl -sS -m 15 -o /dev/null -w '%{http_code}' "$1" || echo 000; }
code=$(status "$WEB/")
[[ $code == 2* || $code == 3* ]] || fail "the web space answered $code"
code=$(status "$WEB/metrics"); [[ $code == 503 || $code == 404 ]] || fail "the web host serves /metrics ($code)"
code=$(status "$GATEWAY/metrics"); [[ $code == 404 ]] || fail "the API host serves /metrics ($code)"
echo "smoke test passed: merchant $slug, $per_sale points per sale, scan + card + cash credited once each" >&2
