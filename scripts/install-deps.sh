#!/usr/bin/env bash
# Installs what aiotest needs on Debian 12, skipping what is present (idempotent).
#   scripts/install-deps.sh build   compiler, meson, libraries
#   scripts/install-deps.sh test    build + the real peers the tests start
#   scripts/install-deps.sh bench   build + the benchmark peers
#   scripts/install-deps.sh image   what deploy/check-image needs: podman (runc for hosts
#                                   crun refuses), debootstrap for base images without a registry
set -eu
what=${1:-build}

build_pkgs="build-essential meson ninja-build pkg-config python3 libevent-dev libnghttp2-dev
 libssl-dev libmsgpack-dev libmicrohttpd-dev libpcap-dev libhttp-parser-dev libjansson-dev
 libcmocka-dev curl openssl zlib1g-dev libbrotli-dev libzstd-dev libsnappy-dev libprotobuf-c-dev
 protobuf-c-compiler libluajit-5.1-dev liblua5.4-dev"
test_pkgs="nginx-light libnginx-mod-http-brotli-filter nghttp2-server nghttp2-client prometheus chromium
 tcpdump tshark jq time clang libclang-rt-14-dev stress-ng python3-scapy python3-kubernetes python3-grpcio python3-websockets"
bench_pkgs="nginx-light wrk nghttp2-client python3-locust time"
image_pkgs="podman runc debootstrap curl python3"

case $what in
    build) pkgs=$build_pkgs ;;
    test) pkgs="$build_pkgs $test_pkgs" ;;
    bench) pkgs="$build_pkgs $bench_pkgs" ;;
    image) pkgs=$image_pkgs ;;
    *) echo "usage: $0 build|test|bench|image" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
