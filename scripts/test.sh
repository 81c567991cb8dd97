#!/usr/bin/env bash
# All of Choucha's tests, in one command on a fresh machine:
#   1. installs what is missing (fonts, poppler-utils, Chromium; the browser tests' npm package);
#   2. starts moto (an S3-compatible server, port CHOUCHA_S3_PORT, default 5005) for the object storage
#      tests (CHOUCHA_TEST_S3_ENDPOINT); without moto they fail under CI=true and are skipped otherwise;
#   3. cargo test --workspace on SQLite;
#   4. the same on PostgreSQL (CHOUCHA_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test);
#      unreachable PostgreSQL fails the run under CI=true and is skipped (with a notice) otherwise;
#   5. the browser tests (tests/browser) against target/debug/choucha, the binary cargo test built.
# Environment: CI=true makes every part mandatory; CHOUCHA_PG_URL picks another PostgreSQL database.
set -euo pipefail
cd "$(dirname "$0")/.."

CI="${CI:-false}"
PG_URL="${CHOUCHA_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
started=$SECONDS

step() {
  echo
  echo "==> $* （已用 $(((SECONDS - started) / 60)) 分 $(((SECONDS - started) % 60)) 秒）"
}

fail() {
  echo "失败：$*" >&2
  exit 1
}

step "检查并安装依赖"
bash scripts/install-deps.sh --test
command -v cargo >/dev/null 2>&1 || fail "未找到 cargo：请先安装 Rust（https://rustup.rs）"

# ---- Object storage (moto) --------------------------------------------------------------------

S3_PORT="${CHOUCHA_S3_PORT:-5005}"
S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
S3_BUCKET="choucha-test"
moto_pid=""
stop_moto() {
  if [[ -n "$moto_pid" ]]; then
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
  fi
}
trap stop_moto EXIT

s3_ready() {
  curl -fsS -o /dev/null "$S3_ENDPOINT/" 2>/dev/null
}

step "对象存储测试服务器（moto，$S3_ENDPOINT）"
if ! s3_ready && command -v moto_server >/dev/null 2>&1; then
  moto_server -H 127.0.0.1 -p "$S3_PORT" >"${TMPDIR:-/tmp}/choucha-moto.log" 2>&1 &
  moto_pid=$!
  for _ in $(seq 1 50); do
    s3_ready && break
    sleep 0.2
  done
fi
if s3_ready; then
  # Each test works under its own prefix of this one bucket (moto accepts the unsigned request).
  curl -fsS -o /dev/null -X PUT "$S3_ENDPOINT/$S3_BUCKET" || fail "无法在 moto 中创建存储桶 $S3_BUCKET"
  export CHOUCHA_TEST_S3_ENDPOINT="$S3_ENDPOINT" CHOUCHA_TEST_S3_BUCKET="$S3_BUCKET"
  echo "moto 已就绪：$S3_ENDPOINT，存储桶 $S3_BUCKET"
elif [[ "$CI" == "true" ]]; then
  fail "moto 不可用（$S3_ENDPOINT）：CI 中必须运行对象存储测试（pip install 'moto[server]'）"
else
  echo "moto 不可用（$S3_ENDPOINT），跳过对象存储测试。安装：pip install 'moto[server]'"
fi

step "cargo test --workspace（SQLite）"
env -u CHOUCHA_TEST_DATABASE_URL cargo test --workspace

# ---- PostgreSQL -------------------------------------------------------------------------------

pg_ready() {
  if command -v psql >/dev/null 2>&1; then
    psql "$PG_URL" -Atqc 'select 1' >/dev/null 2>&1
  elif command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -d "$PG_URL" >/dev/null 2>&1
  else
    return 1
  fi
}

# A local cluster that is installed but stopped is started (as root, Debian's pg_ctlcluster).
start_local_pg() {
  if [[ "$PG_URL" == *"@127.0.0.1"* || "$PG_URL" == *"@localhost"* ]] && command -v pg_ctlcluster >/dev/null 2>&1 &&
    [[ "$(id -u)" -eq 0 && -d /etc/postgresql ]]; then
    for version in /etc/postgresql/*; do
      pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start >/dev/null 2>&1 || true
    done
    sleep 2
  fi
}

# The database of the URL is created when the server answers but the database is missing.
create_test_db() {
  command -v psql >/dev/null 2>&1 || return 0
  local db="${PG_URL##*/}"
  db="${db%%\?*}"
  local admin_url="${PG_URL%/*}/postgres"
  if psql "$admin_url" -Atqc 'select 1' >/dev/null 2>&1; then
    psql "$admin_url" -Atqc "select 1 from pg_database where datname = '$db'" | grep -q 1 ||
      psql "$admin_url" -qc "create database \"$db\"" >/dev/null
  fi
}

# Tests make one schema each (t_…, crates/store/src/fixtures.rs) and leave it behind; drop the old
# ones so the database does not grow forever. Skipped while other clients use the database (another
# test run on the same machine may be using its schemas).
drop_test_schemas() {
  command -v psql >/dev/null 2>&1 || return 0
  local others
  others=$(psql "$PG_URL" -Atqc "select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()")
  if [[ "$others" != "0" && "$CI" != "true" ]]; then
    echo "数据库正被其他 $others 个连接使用，本次不清理遗留的测试 schema"
    return 0
  fi
  local n
  n=$(psql "$PG_URL" -Atqc "select count(*) from pg_namespace where nspname like 't\_%'")
  echo "清理遗留的测试 schema：$n 个"
  if [[ "$n" != "0" ]]; then
    psql "$PG_URL" -q -v ON_ERROR_STOP=1 <<'SQL'
DO $$
DECLARE s text;
BEGIN
  FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\_%' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
    COMMIT;
  END LOOP;
END $$;
SQL
  fi
}

step "cargo test --workspace（PostgreSQL：${PG_URL%%\?*}）"
pg_ready || { start_local_pg; create_test_db; }
if pg_ready; then
  drop_test_schemas
  CHOUCHA_TEST_DATABASE_URL="$PG_URL" cargo test --workspace
elif [[ "$CI" == "true" ]]; then
  fail "PostgreSQL 不可达（$PG_URL）：CI 中必须运行 PostgreSQL 测试"
else
  echo "PostgreSQL 不可达（$PG_URL），跳过 PostgreSQL 测试。设置 CHOUCHA_PG_URL 可指定其他数据库。"
fi

# ---- Browser --------------------------------------------------------------------------------

step "浏览器测试（tests/browser，Chromium 无头模式）"
# The debug binary cargo test built. The same selection as `cargo test --workspace` (bins and
# tests), so the features are the same and nothing is rebuilt; `-p choucha` alone would resolve
# other features and compile many dependencies a second time.
cargo build --workspace --bins --tests
if ! command -v npm >/dev/null 2>&1; then
  [[ "$CI" == "true" ]] && fail "未找到 node/npm：CI 中必须运行浏览器测试"
  echo "未找到 node/npm，跳过浏览器测试"
else
  (
    cd tests/browser
    npm ci --no-audit --no-fund --loglevel=error
    CHOUCHA_BIN="${CARGO_TARGET_DIR:-$PWD/../../target}/debug/choucha" npm test --silent
  )
  echo "截图：target/browser-screenshots/"
fi

step "全部测试通过"
