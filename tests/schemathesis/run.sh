#!/usr/bin/env bash
# Runs schemathesis (pinned in requirements.txt, installed into ./.venv) against a real server:
# the Stripe double and credits-server on a temporary SQLite database, an org and an owner token
# made with the admin CLI, the spec *file* as the contract.
#
# Every phase (examples, coverage, fuzzing, stateful) and every check run, with schemathesis'
# default expected statuses (settings in schemathesis.toml). The server is started with
# `--allow-any-redirect-origin`, so any redirect URL the spec's pattern allows is accepted, as
# `positive_data_acceptance` requires. hooks.py signs the generated webhook events with the
# secret below, so the webhook's own handling is fuzzed rather than its signature check alone.
#
# Exits non-zero on any failure, and also when the run generated fewer than 5,000 cases or
# some operation never answered a generated request with a 2xx. Set SCHEMATHESIS_REPORT_DIR to
# keep the reports (JUnit and JSON).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/tests/schemathesis"
cd "$root"

venv="$root/.venv"
if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/pip" freeze 2>/dev/null | grep -qxF "$(cat "$here/requirements.txt")"; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's Python needs its venv module installed separately.
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    else
      echo "python3 -m venv failed: install Python's venv module (Debian: apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi

cargo build --locked --quiet -p credits-server -p stripe-fake
bin="${CARGO_TARGET_DIR:-$root/target}/debug"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
stripe_port="$(free_port)"
server_port="$(free_port)"
export DATABASE_URL="sqlite://$work/credits.db"
secret="whsec_schemathesis"

"$bin/stripe-fake" --port "$stripe_port" --webhook "http://127.0.0.1:$server_port/api/v1/webhooks/stripe=$secret" \
  >"$work/stripe-fake.log" 2>&1 &
pids+=($!)

export CREDITS_ORG="schemathesis"
"$bin/credits-server" admin create-org "$CREDITS_ORG" --name "Schemathesis" >/dev/null
CREDITS_TOKEN="$("$bin/credits-server" admin create-token --org "$CREDITS_ORG" --email fuzz@example.com --role owner | tail -n 1)"
export CREDITS_TOKEN

env -u CREDITS_ALLOWED_REDIRECT_ORIGINS -u CREDITS_MIN_CLIENT_VERSION -u CREDITS_BUNDLE_PRICE_ID \
  "$bin/credits-server" serve --bind "127.0.0.1:$server_port" \
  --stripe-secret-key sk_test_schemathesis --stripe-api-base "http://127.0.0.1:$stripe_port/" \
  --stripe-webhook-secret "$secret" --bundle-unit-amount 500 --credits-per-bundle 100 \
  --rate-limit-per-minute 1000000 --rate-limit-per-address-per-minute 1000000 --allow-any-redirect-origin --log-level warn >"$work/server.log" 2>&1 &
pids+=($!)

python3 - "$server_port" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/openapi.json"
for _ in range(200):
    try:
        urllib.request.urlopen(url, timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"the server did not answer at {url}")
PY

min_cases=5000
report_dir="${SCHEMATHESIS_REPORT_DIR:-$work/report}"
status=0
# (No bytecode cache: hooks.py is loaded from the source tree.)
PYTHONDONTWRITEBYTECODE=1 SCHEMATHESIS_HOOKS="$here/hooks.py" SCHEMATHESIS_WEBHOOK_SECRET="$secret" \
  "$venv/bin/st" --config-file "$here/schemathesis.toml" run "$root/openapi/credits.json" \
  --url "http://127.0.0.1:$server_port" --workers 2 --seed 20261125 --no-color \
  --report junit,json --report-dir "$report_dir" || status=$?
if [ "$status" -eq 0 ]; then
  # What the summary does not fail on by itself: the size of the run, and that each operation was
  # reached (a 2xx) at least once rather than only refused.
  "$venv/bin/python" - "$root/openapi/credits.json" "$report_dir" "$min_cases" <<'PY' || status=$?
import glob, json, os, sys
spec_path, report_dir, min_cases = sys.argv[1], sys.argv[2], int(sys.argv[3])
report = json.load(open(max(glob.glob(os.path.join(report_dir, "json-*.json")), key=os.path.getmtime)))
spec = json.load(open(spec_path))
methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
operations = [f"{m.upper()} {path}" for path, item in spec["paths"].items() for m in item if m in methods]
problems = []
generated = report["test_cases"]["generated"]
if generated < min_cases:
    problems.append(f"only {generated} cases were generated; at least {min_cases} are wanted")
for operation in operations:
    phases = report.get("valid_rates", {}).get(operation, {})
    accepted = sum(outcome.get("accepted", 0) for outcome in phases.values())
    print(f"  {operation}: {accepted} coverage/fuzzing requests answered with a 2xx")
    if accepted == 0:
        problems.append(f"{operation} never answered a generated request with a 2xx")
for problem in problems:
    print(f"schemathesis run: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
fi
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 50 lines) ---"; tail -n 50 "$work/server.log"
fi
exit "$status"
