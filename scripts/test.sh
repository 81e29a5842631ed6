#!/usr/bin/env bash
# Install everything the tests need (Chromium, Caddy, Python packages) and run the whole suite:
# lint, unit/service tests, browser tests, benchmark smoke. With CI=true nothing may be skipped.
source "$(dirname "$0")/_env.sh" "[test]"
# prometheus: promtool (deploy/monitoring checks) and the server tests/e2e/test_metrics.py runs;
# podman, runc and debootstrap: the container image is built and run (tests/e2e/test_image.py).
apt_install chromium caddy prometheus podman runc debootstrap

# PostgreSQL and Redis: used by the tests that are about the database or multi-worker state.
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
if command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    >/dev/null || true
fi

status=0
echo "==> ruff"
ruff check . || status=1
echo "==> unit and service tests"
pytest -q -p no:cacheprovider --ignore=tests/e2e || status=1
echo "==> service tests again on PostgreSQL (a fresh database per test, copied from a migrated one)"
BITCHANGE_TEST_DATABASE=postgresql pytest -q -p no:cacheprovider tests/ledger tests/trading \
  tests/wallet tests/accounts tests/promos tests/staking tests/jobs || status=1
echo "==> browser tests (Playwright + Chromium against the production build)"
pytest -q -p no:cacheprovider tests/e2e || status=1
echo "==> benchmark smoke (tiny sizes; figures only, no timing assertions)"
python benchmarks/engine_bench.py --events 20000 --runs 1 || status=1
python benchmarks/placement_bench.py --orders 200 --runs 1 || status=1
python benchmarks/catch_up_bench.py --resting 500 --orders 100 --runs 1 || status=1
python benchmarks/live_bench.py --tabs 20 --runs 1 || status=1
python benchmarks/proof_bench.py --accounts 2000 || status=1
python benchmarks/api_bench.py --orders 200 --runs 1 || status=1
python benchmarks/stream_fanout_bench.py --clients 20 --trades 5 || status=1
python benchmarks/conditional_bench.py --pending 200 --stops 50 --orders 200 --runs 1 || status=1
python benchmarks/load_bench.py --baseline 5 --screens 20 --orders 5 || status=1
exit $status
