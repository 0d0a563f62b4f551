#!/usr/bin/env bash
# Run the test suite in the project's virtualenv (created on first use).
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not server" -x
# Test files are spread over one pytest-xdist worker per core (at most 4: each worker pays
# its own TensorFlow import and shared smoke run); SPLINE_TEST_WORKERS=0 runs in one process.
# --no-loadscope-reorder: the files go out in the order tests/conftest.py gives them (servers
# and flows first), not by how many tests each holds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PREFECT_SERVER_ANALYTICS_ENABLED=false
cores=$(nproc 2>/dev/null || echo 1)
workers="${SPLINE_TEST_WORKERS:-$(( cores > 4 ? 4 : (cores < 2 ? 0 : cores) ))}"
exec .venv/bin/python -m pytest -n "$workers" --dist loadfile --no-loadscope-reorder "$@"
