#!/usr/bin/env bash
# Set up and start the service on the embedded demo store at http://127.0.0.1:8000 (PORT to change it).
# --https serves it with a self-signed certificate, so a phone on the same network can use its camera.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
unset MONGO_URI
port="${PORT:-8000}"
tls=(); scheme=http
if [ "${1:-}" = "--https" ]; then
  bash scripts/https_cert.sh
  tls=(--certfile certs/dev-cert.pem --keyfile certs/dev-key.pem); scheme=https
fi
cat <<MSG

  Rare Earth Field Inspector — DEMO DATA, NOT SAVED (everything is lost when the service stops)
  App:      ${scheme}://127.0.0.1:${port}/
  API docs: ${scheme}://127.0.0.1:${port}/api/docs
  Logins (password "demo"): inspector, inspector2, supervisor, enterprise, enterprise2, admin

MSG
exec .venv/bin/gunicorn --config gunicorn.conf.py --workers 1 --bind "0.0.0.0:${port}" "${tls[@]}" 'api:create_app()'
