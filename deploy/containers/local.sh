#!/usr/bin/env bash
# The whole Fidpass system in containers on a machine without an image registry (./fidpass containers):
# base images made from Debian packages (mmdebstrap), the services published on the host and copied
# into the Dockerfile's `prebuilt` target, run by docker-compose v1 over podman's Docker API socket.
# Usage: deploy/containers/local.sh base|images|up|smoke|down|all
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export CONTAINERS_CONF="$ROOT/deploy/podman/containers.conf"
STATE="$ROOT/.fidpass/containers"
SOCK="$STATE/podman.sock"
export DOCKER_HOST="unix://$SOCK"
export COMPOSE_PROJECT_NAME=fidpass-containers
COMPOSE=(docker-compose -f docker-compose.yml -f deploy/containers/compose.local.yml)
# Ports away from the dev system's (5080-5110, 51xx, 25432, 26720, 25672, 25692, 12111, 12112, 12113, 8092, 8093).
export FIDPASS_GATEWAY_PORT=${FIDPASS_GATEWAY_PORT:-6080} FIDPASS_WEB_PORT=${FIDPASS_WEB_PORT:-6081}
export FIDPASS_PG_PORT=${FIDPASS_PG_PORT:-6432} FIDPASS_MQ_PORT=${FIDPASS_MQ_PORT:-6672}
export FIDPASS_MQ_MGMT_PORT=${FIDPASS_MQ_MGMT_PORT:-6673} FIDPASS_MQ_PROMETHEUS_PORT=${FIDPASS_MQ_PROMETHEUS_PORT:-6692}
export FIDPASS_FAKE_STRIPE_PORT=${FIDPASS_FAKE_STRIPE_PORT:-6111} FIDPASS_CASHLOGY_SIM_PORT=${FIDPASS_CASHLOGY_SIM_PORT:-6092}
export FIDPASS_INGRESS_PORT=${FIDPASS_INGRESS_PORT:-6085}
export FIDPASS_FAKE_APNS_PORT=${FIDPASS_FAKE_APNS_PORT:-6112}
export FIDPASS_FAKE_GOOGLE_WALLET_PORT=${FIDPASS_FAKE_GOOGLE_WALLET_PORT:-6113}
export FIDPASS_REGISTRY=${FIDPASS_REGISTRY:-localhost/fidpass} FIDPASS_TAG=${FIDPASS_TAG:-local}
RUNTIME_BASE=localhost/fidpass-base/aspnet:10.0-bookworm

say() { printf '\033[1m%s\033[0m\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
need() { command -v "$1" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${@:2}" >/dev/null; }

tools() {
  need podman podman slirp4netns uidmap
  need mmdebstrap mmdebstrap
  need runc runc
  need docker-compose docker-compose
  # Containers find each other by service name through podman's CNI dnsname plugin (a Recommends).
  [ -x /usr/lib/cni/dnsname ] || DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
    --no-install-recommends golang-github-containernetworking-plugin-dnsname >/dev/null
  mkdir -p "$STATE"
}

# Debian bookworm (minbase) + the libraries .NET needs + this machine's .NET runtime (the same one
# the tests run on); production uses Microsoft's aspnet image instead (Dockerfile RUNTIME_IMAGE).
base() {
  tools
  podman image exists "$RUNTIME_BASE" && [ -z "${FIDPASS_REBUILD_BASE:-}" ] && return
  local dotnet=${DOTNET_ROOT:-/usr/share/dotnet}
  [ -d "$dotnet/shared/Microsoft.AspNetCore.App" ] || die "no ASP.NET Core runtime under $dotnet"
  say "Making $RUNTIME_BASE from Debian packages (mmdebstrap)…"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates,libicu72,libssl3,tzdata \
    --customize-hook="mkdir -p \"\$1/usr/share/dotnet\"" \
    --customize-hook="copy-in $dotnet/dotnet $dotnet/host $dotnet/shared /usr/share/dotnet" \
    --customize-hook="chroot \"\$1\" ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet" \
    --customize-hook="rm -rf \"\$1/var/lib/apt/lists\"/* \"\$1/var/cache/apt\"/*" \
    bookworm "$STATE/aspnet-rootfs.tar"
  podman import --quiet "$STATE/aspnet-rootfs.tar" "$RUNTIME_BASE" >/dev/null
  rm -f "$STATE/aspnet-rootfs.tar"
}


# PostgreSQL, RabbitMQ and nginx (the ingress controller's stand-in) from Debian's packages (the
# official images cannot be pulled here).
server() {
  local name=$1 packages=$2 image=localhost/fidpass-base/$1:$3
  podman image exists "$image" && [ -z "${FIDPASS_REBUILD_BASE:-}" ] && return
  say "Making $image from Debian packages (mmdebstrap)…"
  mmdebstrap --quiet --variant=minbase --include="$packages" \
    --customize-hook="copy-in $ROOT/deploy/containers/servers/$name-entrypoint /usr/local/bin" \
    --customize-hook="rm -rf \"\$1/var/lib/apt/lists\"/* \"\$1/var/cache/apt\"/*" \
    bookworm "$STATE/$name-rootfs.tar"
  podman import --quiet --change "ENTRYPOINT [\"/usr/local/bin/$name-entrypoint\"]" "$STATE/$name-rootfs.tar" "$image" >/dev/null
  rm -f "$STATE/$name-rootfs.tar"
}

servers() {
  tools
  server postgres postgresql-15 15-bookworm
  server rabbitmq rabbitmq-server 3-bookworm
  server ingress nginx-light 1.22-bookworm
}

# compose service name : project (the image is $FIDPASS_REGISTRY/<name>:$FIDPASS_TAG).
SERVICES=(
  gateway:gateway/Fidpass.Gateway/Fidpass.Gateway
  merchant-token:services/merchant-token/Fidpass.MerchantToken
  loyalty:services/loyalty/Fidpass.Loyalty
  stripe-terminal:services/stripe-terminal/Fidpass.StripeTerminal
  cashlogy-edge:services/cashlogy-edge/Fidpass.CashlogyEdge
  wallet:services/wallet/Fidpass.Wallet
  web:services/web/Fidpass.Web
  fake-stripe:simulators/Fidpass.FakeStripe/Fidpass.FakeStripe
  fake-apns:simulators/Fidpass.FakeApns/Fidpass.FakeApns
  fake-google-wallet:simulators/Fidpass.FakeGoogleWallet/Fidpass.FakeGoogleWallet
  cashlogy-simulator:simulators/Fidpass.CashlogySimulator/Fidpass.CashlogySimulator
)

# Published on the host (the SDK and NuGet packages are here, and it is far cheaper than an SDK
# inside a build), then copied into the Dockerfile's `prebuilt` target: one COPY layer per image.
publish() {
  local entry=$1 name=${1%%:*} proj=${1#*:} assembly out
  assembly=$(basename "$proj"); out="$ROOT/artifacts/publish/$assembly"
  say "Publishing $name…"
  dotnet publish "$proj.csproj" -c Release -o "$out" --nologo -v quiet >/dev/null || die "publish of $proj failed"
  cp "$out/$assembly" "$out/fidpass-service"
}

image() {
  local name=${1%%:*} proj=${1#*:}
  say "Building image $FIDPASS_REGISTRY/$name:$FIDPASS_TAG…"
  podman build --quiet --target prebuilt --build-arg RUNTIME_IMAGE="$RUNTIME_BASE" \
    --build-arg ASSEMBLY="$(basename "$proj")" -t "$FIDPASS_REGISTRY/$name:$FIDPASS_TAG" . >/dev/null
}

images() {
  base
  local s
  for s in "${SERVICES[@]}"; do
    case " ${*:-all} " in *" ${s%%:*} "*|" all ") publish "$s"; image "$s" ;; esac
  done
}

# podman's Docker-compatible API, for docker-compose v1 (started once, stopped by `down`).
engine() {
  tools
  curl -fsS --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && return
  rm -f "$SOCK"
  podman system service --time=0 "unix://$SOCK" >"$STATE/podman-service.log" 2>&1 &
  echo $! >"$STATE/podman-service.pid"
  local i
  for i in $(seq 30); do curl -fsS --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && return; sleep 1; done
  die "podman system service did not answer on $SOCK"
}

# The .NET images have no shell, and podman runs no health checks here (no systemd): wait on each
# published endpoint from outside instead of `up --wait`.
wait_http() {
  local url=$1 deadline=$((SECONDS + ${2:-240}))
  until curl -fsS -m 5 -o /dev/null "$url"; do
    [ "$SECONDS" -lt "$deadline" ] || die "$url did not answer"
    sleep 2
  done
}

up() {
  engine
  "${COMPOSE[@]}" up -d --no-build
  say "Waiting for the system (health endpoints)…"
  wait_http "http://127.0.0.1:$FIDPASS_FAKE_STRIPE_PORT/"
  wait_http "http://127.0.0.1:$FIDPASS_CASHLOGY_SIM_PORT/health"
  wait_http "http://127.0.0.1:$FIDPASS_GATEWAY_PORT/health"
  wait_http "http://127.0.0.1:$FIDPASS_WEB_PORT/health"
  wait_http "http://espace.fidpass.localhost:$FIDPASS_INGRESS_PORT/"
}

smoke() {
  # Through the ingress, by host name as in the cluster (curl resolves *.localhost to this machine).
  GATEWAY="http://app.fidpass.localhost:$FIDPASS_INGRESS_PORT" WEB="http://espace.fidpass.localhost:$FIDPASS_INGRESS_PORT" \
  FAKE_STRIPE="http://127.0.0.1:$FIDPASS_FAKE_STRIPE_PORT" CASHLOGY_CONTROL="http://127.0.0.1:$FIDPASS_CASHLOGY_SIM_PORT" \
  ADMIN_KEY="${FIDPASS_ADMIN_KEY:-change-me-local-admin-key}" "$ROOT/deploy/containers/smoke.sh"
}

down() {
  if curl -fsS --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; then
    "${COMPOSE[@]}" logs --no-color >"$STATE/compose.log" 2>&1 || true
    "${COMPOSE[@]}" down --volumes || true
  fi
  if [ -f "$STATE/podman-service.pid" ]; then kill "$(cat "$STATE/podman-service.pid")" 2>/dev/null || true; rm -f "$STATE/podman-service.pid"; fi
}

# Builds, starts, smoke-tests and stops; prints how long each phase took.
all() {
  local t0=$SECONDS t1 t2 rc=0
  base; servers; images; t1=$SECONDS
  trap down EXIT
  up; t2=$SECONDS
  smoke || rc=$?
  say "images $((t1 - t0)) s, start $((t2 - t1)) s, smoke $((SECONDS - t2)) s (logs: $STATE/compose.log)"
  return $rc
}

case "${1:-}" in
  base) base; servers ;;
  servers) servers ;;
  images) shift; images "$@" ;;
  up) up ;;
  smoke) smoke ;;
  down) down ;;
  all) all ;;
  *) die "usage: $0 base|images [service…]|up|smoke|down|all" ;;
esac
