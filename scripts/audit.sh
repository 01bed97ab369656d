#!/usr/bin/env bash
# Audit requirements.txt for known vulnerabilities with pip-audit (pinned in requirements-audit.txt, in .venv-audit).
#
# It first checks that a vulnerability service can actually answer for our pins: PyPI's per-version JSON API
# (https://pypi.org/pypi/<name>/<version>/json), else OSV (https://api.osv.dev). A mirror without that API makes
# pip-audit skip every package and still say "No known vulnerabilities found"; this script never reports that as
# clean. When no service answers it prints a NOT AUDITED banner and exits 0, or 1 with AUDIT_REQUIRED=1.
#
# Accepted vulnerabilities: audit-ignore.txt, one id a line with the reason (an id without a reason stops the audit).
# Environment: AUDIT_REQUIRED=1 (no service is an error), AUDIT_PROBE_TIMEOUT (seconds, default 10); for the tests,
# AUDIT_IGNORE_FILE, and AUDIT_PYPI_URL / AUDIT_OSV_URL to point the probe elsewhere (pip-audit itself always asks the
# real services, and --strict fails any package it could not check).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUIREMENTS=requirements.txt
IGNORE_FILE="${AUDIT_IGNORE_FILE:-audit-ignore.txt}"
PYPI_JSON="${AUDIT_PYPI_URL:-https://pypi.org/pypi}"
OSV_QUERY="${AUDIT_OSV_URL:-https://api.osv.dev/v1/query}"
VENV=.venv-audit
TIMEOUT="${AUDIT_PROBE_TIMEOUT:-10}"

fail() { echo "audit: $*" >&2; exit 1; }

not_audited() {
  local why="$1"
  {
    echo "=============================================================================="
    echo "NOT AUDITED: the vulnerability service is unreachable from this machine"
    echo "  ($why)."
    echo "  No package in $REQUIREMENTS was checked for known vulnerabilities."
    echo "  This is NOT a clean result. Run 'bash scripts/audit.sh' on a machine that"
    echo "  reaches pypi.org's JSON API or api.osv.dev; AUDIT_REQUIRED=1 makes this an error."
    echo "=============================================================================="
  } >&2
  if [ "${AUDIT_REQUIRED:-0}" = 1 ]; then
    exit 1
  fi
  exit 0
}

command -v python3 >/dev/null || fail "python3 is missing"
[ -f "$REQUIREMENTS" ] || fail "$REQUIREMENTS is missing"
flask_version="$(sed -n 's/^[Ff]lask==\([^ ;#]*\).*/\1/p' "$REQUIREMENTS" | head -n1)"
[ -n "$flask_version" ] || fail "no Flask==<version> pin in $REQUIREMENTS to probe the vulnerability service with"

# The exceptions, each with its reason.
ignores=()
if [ -f "$IGNORE_FILE" ]; then
  while read -r id reason; do
    case "$id" in ''|'#'*) continue ;; esac
    [ -n "$reason" ] || fail "$IGNORE_FILE: $id has no reason; say why it is accepted"
    ignores+=(--ignore-vuln "$id")
  done < "$IGNORE_FILE"
fi

# Which service can answer for a pinned package? Prints "pypi" or "osv", or the reasons neither can.
service="$(python3 - "$flask_version" "$TIMEOUT" "$PYPI_JSON" "$OSV_QUERY" <<'PY'
import json, sys, urllib.request

version, timeout, pypi, osv = sys.argv[1], float(sys.argv[2]), sys.argv[3].rstrip("/"), sys.argv[4]
reasons = []

def fetch(url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return json.loads(response.read())

def why(exc):
    return getattr(exc, "reason", None) or getattr(exc, "code", None) or exc

try:
    answer = fetch(f"{pypi}/flask/{version}/json")
    if isinstance(answer, dict) and "vulnerabilities" in answer and answer.get("info", {}).get("version") == version:
        print("pypi")
        sys.exit(0)
    reasons.append(f"{pypi}/flask/{version}/json answered without vulnerability data")
except Exception as exc:  # noqa: BLE001 - any failure means this service cannot audit
    reasons.append(f"{pypi}/flask/{version}/json: {why(exc)}")
try:
    answer = fetch(osv, {"package": {"name": "flask", "ecosystem": "PyPI"}, "version": version})
    if isinstance(answer, dict):
        print("osv")
        sys.exit(0)
    reasons.append(f"{osv} answered something that is not a query result")
except Exception as exc:  # noqa: BLE001
    reasons.append(f"{osv}: {why(exc)}")
print("; ".join(str(r) for r in reasons))
PY
)" || service="the probe itself failed"
case "$service" in
  pypi|osv) ;;
  *) not_audited "$service" ;;
esac

# pip-audit in its own virtualenv, reinstalled only when requirements-audit.txt changes.
stamp="$VENV/.requirements-audit.sha256"
want="$(sha256sum requirements-audit.txt | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/pip-audit" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || fail "could not create $VENV"
  "$VENV/bin/python" -m pip install -q -r requirements-audit.txt || not_audited "pip could not install pip-audit"
  echo "$want" > "$stamp"
fi

echo "audit: checking $REQUIREMENTS against the $service vulnerability service ($(( ${#ignores[@]} / 2 )) accepted in $IGNORE_FILE)"
# --strict: a package the service cannot find fails the audit instead of being skipped in silence.
# --no-deps: requirements.txt pins everything, so nothing needs resolving (and nothing is installed).
if "$VENV/bin/pip-audit" -r "$REQUIREMENTS" --strict --no-deps --progress-spinner off -s "$service" "${ignores[@]}"; then
  echo "audit: no known vulnerabilities in $REQUIREMENTS (service: $service)"
else
  fail "AUDIT FAILED: known vulnerabilities above, or packages the service could not check; fix the pins or add an entry with its reason to $IGNORE_FILE"
fi
