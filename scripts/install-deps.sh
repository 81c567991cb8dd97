#!/usr/bin/env bash
# Install the Debian packages Choucha needs, only those that are missing.
#   bash scripts/install-deps.sh          fonts for PDFs, poppler-utils
#   bash scripts/install-deps.sh --test   the same, plus Chromium for the browser tests (unzip reads their Excel files) and moto
#                                         (an S3-compatible server, from PyPI) for the object storage tests
# Uses sudo only when not run as root. On a system without dpkg/apt it prints what to install.
set -euo pipefail

want=(fonts-noto-cjk poppler-utils)
if [[ "${1:-}" == "--test" ]]; then
  want+=(chromium chromium-driver curl unzip)
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "提示：未找到 apt-get，请自行安装：${want[*]}" >&2
  exit 0
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# The object storage tests run against moto in server mode (PyPI `moto[server]`), started by
# scripts/test.sh; installed for the current user's Python when missing (pinned: 5.2.1 is the version
# the tests were written against).
if [[ "${1:-}" == "--test" ]] && ! command -v moto_server >/dev/null 2>&1; then
  python=$(command -v python3 || command -v python || true)
  if [[ -n "$python" ]] && "$python" -m pip --version >/dev/null 2>&1; then
    echo "==> 安装 moto（兼容 S3 的测试服务器）：pip install 'moto[server]'"
    "$python" -m pip install --quiet 'moto[server]==5.2.1' || echo "提示：moto 安装失败，对象存储测试将被跳过（CI 中则失败）" >&2
  else
    echo "提示：未找到 python3/pip，无法安装 moto；请自行安装：pip install 'moto[server]'" >&2
  fi
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "==> 安装缺少的系统软件包：${missing[*]}"
sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
