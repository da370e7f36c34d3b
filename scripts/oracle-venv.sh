#!/usr/bin/env bash
# Prints the path of the oracle virtual environment, creating it first when it does not exist.
# PRECIS_VENV overrides the location. Set PRECIS_SKIP_LLAMA=1 to leave llama.cpp out.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
reqs=("$here/requirements-oracle.txt" "$here/requirements-llama.txt")
key=$(cat "${reqs[@]}" | sha256sum | cut -c1-12)
venv=${PRECIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/precis/venv-$key}
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  # Prefer a python3 that has pip and the venv module (pyenv's or Debian's).
  py=$(command -v python3)
  echo "oracle-venv: creating $venv" >&2
  # A venv cannot be moved (its scripts hold absolute paths), so it is built in place and marked
  # complete only at the end; an interrupted build is started again from scratch.
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$py" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install -q --upgrade pip >&2
  "$venv/bin/python" -m pip install -q -r "$here/requirements-oracle.txt" >&2
  if [ "${PRECIS_SKIP_LLAMA:-0}" != 1 ]; then
    # llama-cpp-python compiles llama.cpp; two jobs fit the machine's cores and memory.
    CMAKE_BUILD_PARALLEL_LEVEL=2 "$venv/bin/python" -m pip install -q -r "$here/requirements-llama.txt" >&2
  fi
  touch "$venv/.complete"
fi
# Light packages: installed incrementally whenever their pinned list changes.
extra_key=$(sha256sum "$here/requirements-extra.txt" | cut -c1-12)
if [ "$(cat "$venv/.extra-key" 2>/dev/null)" != "$extra_key" ]; then
  "$venv/bin/python" -m pip install -q -r "$here/requirements-extra.txt" >&2
  echo "$extra_key" > "$venv/.extra-key"
fi
echo "$venv"
