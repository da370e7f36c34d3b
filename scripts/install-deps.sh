#!/usr/bin/env bash
# Installs everything precis needs on a fresh Debian machine: the Debian packages it builds against
# and the Python virtual environment that holds its test oracles. Idempotent: packages already
# present are not fetched again, and a virtual environment built from the same pinned requirements
# is reused.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  clang libclang-rt-14-dev  # libFuzzer for -DPRECIS_FUZZ=ON (tests/io/fuzz)
  libdnnl-dev ocl-icd-opencl-dev opencl-headers
  libeigen3-dev libceres-dev libsqlite3-dev sqlite3
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libfmt-dev
  libsentencepiece-dev sentencepiece
  libopenmpi-dev openmpi-bin
  libgtest-dev libgmock-dev libbenchmark-dev
  gnuplot-nox
  python3-venv
  zlib1g-dev libssl-dev
  libicu-dev  # data/: Unicode classes for the pre-tokenizers of GGUF tokenizers
  # corpus sources of data/recipes/*.toml (docs/data.md)
  dict-gcide linux-doc-6.1 python3.11-doc perl-doc postgresql-doc-15 fortunes jargon-text
  libsword-utils sword-comm-tdavid sword-comm-mhcc sword-text-web sword-text-kjv
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The oracle environment lives outside the checkout, keyed by the hash of the pinned requirements,
# so that a fresh clone (CI) on the same machine reuses it instead of downloading PyTorch again.
"$here/oracle-venv.sh" >/dev/null
