#!/usr/bin/env bash
# Installs what building and testing newsgraph needs beyond cargo, once:
#   - libclang-dev: Oxigraph's RocksDB binding runs bindgen at build time;
#   - graphviz + fonts-noto-cjk: the DOT export is rendered in tests;
#   - a Python virtualenv (.venv) with the consumers the tests run against
#     our output (listed in scripts/requirements-test.txt), among them the
#     SPARQL clients and Oxigraph's server (a prebuilt binary from PyPI)
#     that tests/it/serve.rs and tests/it/push.rs start on loopback;
#   - curl (and kill): the HTTP client of those tests;
#   - ripgrep: the peer of the extraction benchmark, and valgrind, which
#     counts its instructions (tests/it/bench.rs).
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -e /usr/lib/llvm-14/lib/libclang.so ] || ls /usr/lib/llvm-*/lib/libclang*.so >/dev/null 2>&1 || need_apt+=(libclang-dev)
if [ "${NEWSGRAPH_DEPS:-build}" = "test" ]; then
  command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
  fc-list 2>/dev/null | grep -i 'noto sans cjk' >/dev/null || need_apt+=(fonts-noto-cjk)
  # tests/it/serve.rs and tests/it/push.rs talk HTTP with curl and stop servers
  # with kill (procps).
  command -v curl >/dev/null 2>&1 || need_apt+=(curl)
  # The benchmark runner's test compares extraction with a ripgrep scan.
  command -v rg >/dev/null 2>&1 || need_apt+=(ripgrep)
  # ... and counts the extract's instructions with valgrind's callgrind.
  command -v valgrind >/dev/null 2>&1 || need_apt+=(valgrind)
  [ -x /bin/kill ] || [ -x /usr/bin/kill ] || need_apt+=(procps)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "newsgraph: installing ${need_apt[*]} (apt)" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ "${NEWSGRAPH_DEPS:-build}" = "test" ] && [ -s scripts/requirements-test.txt ]; then
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  if ! cmp -s scripts/requirements-test.txt .venv/.requirements 2>/dev/null; then
    echo "newsgraph: installing Python test consumers into .venv" >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
    cp scripts/requirements-test.txt .venv/.requirements
  fi
fi
