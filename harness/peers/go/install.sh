#!/usr/bin/env bash
# Installs Go for the lab's `go` peer when there is none: Debian's golang-go through apt-get,
# when apt-get is there and may be used. Never fails: without Go the go peer's rows are "n/a"
# and its tests skip, saying why.
set -u

if command -v go >/dev/null 2>&1; then
    echo "go peer: $(go version)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "go peer: no go and no apt-get; install Go by hand for the go peer (its rows stay n/a)"
    exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo="sudo -n"
    else
        echo "go peer: no go, and apt-get needs root; run: apt-get install golang-go (its rows stay n/a)"
        exit 0
    fi
fi
echo "go peer: installing Debian's golang-go"
export DEBIAN_FRONTEND=noninteractive
if timeout 300 $sudo apt-get update -qq >/dev/null 2>&1 \
    && timeout 600 $sudo apt-get install -y -qq golang-go >/dev/null 2>&1 \
    && command -v go >/dev/null 2>&1; then
    echo "go peer: $(go version)"
else
    echo "go peer: apt-get install golang-go failed; the go peer's rows stay n/a and its tests skip"
fi
exit 0
