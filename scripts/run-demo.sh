#!/usr/bin/env bash
# One command on a fresh machine: install what is missing, build, and serve Choucha with the demo
# data on http://127.0.0.1:8080 (data in ./data). The demo accounts and their password are printed.
# Extra arguments go to `choucha serve`, e.g. `bash scripts/run-demo.sh --listen 0.0.0.0:8080`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "未找到 cargo：请先安装 Rust（https://rustup.rs），版本 1.95 或更新" >&2
  exit 1
fi
bash scripts/install-deps.sh
cargo build --release -p choucha
exec target/release/choucha serve --demo "$@"
