#!/usr/bin/env bash
# Run the test suite in the project's virtualenv (created on first use).
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not server" -x
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PREFECT_SERVER_ANALYTICS_ENABLED=false
exec .venv/bin/python -m pytest "$@"
