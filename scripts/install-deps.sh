#!/usr/bin/env bash
# Install the Debian packages Choucha needs, only those that are missing.
#   bash scripts/install-deps.sh          fonts for PDFs, poppler-utils
#   bash scripts/install-deps.sh --test   the same, plus Chromium for the browser tests
# Uses sudo only when not run as root. On a system without dpkg/apt it prints what to install.
set -euo pipefail

want=(fonts-noto-cjk poppler-utils)
if [[ "${1:-}" == "--test" ]]; then
  want+=(chromium chromium-driver)
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
