#!/usr/bin/env bash
# Make a self-signed certificate for this machine's names and LAN addresses, so a phone on the same network can
# open the app over HTTPS (browsers give the camera and service workers only to secure origins).
# Usage: bash scripts/https_cert.sh [--force]   -> certs/dev-cert.pem, certs/dev-key.pem (git-ignored)
# Then:  gunicorn ... --certfile certs/dev-cert.pem --keyfile certs/dev-key.pem
# The phone shows a warning once for a self-signed certificate; accept it (or install certs/dev-cert.pem on it).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v openssl >/dev/null || { echo "https_cert: openssl is missing (apt-get install -y openssl)" >&2; exit 1; }
mkdir -p certs
cert=certs/dev-cert.pem
key=certs/dev-key.pem

# Every IPv4 address of this machine, so the phone can use whichever the Wi-Fi gives it.
ips=$( (hostname -I 2>/dev/null || true) | tr ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}$' || true)
names="DNS:localhost,DNS:$(hostname),IP:127.0.0.1,IP:::1"
for ip in $ips; do names="$names,IP:$ip"; done

if [ "${1:-}" != "--force" ] && [ -s "$cert" ] && [ -s "$key" ] && openssl x509 -in "$cert" -noout -checkend 86400 >/dev/null 2>&1; then
  have=$(openssl x509 -in "$cert" -noout -ext subjectAltName 2>/dev/null | tr -d ' \n' || true)
  missing=0
  for ip in $ips; do case "$have" in *"IPAddress:$ip"*) ;; *) missing=1 ;; esac; done
  if [ "$missing" = 0 ]; then
    echo "https_cert: $cert is current"
    exit 0
  fi
fi

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 397 -keyout "$key" -out "$cert" \
  -subj "/CN=Rare Earth Field Inspector (development)" -addext "subjectAltName=$names" \
  -addext "keyUsage=digitalSignature,keyEncipherment" -addext "extendedKeyUsage=serverAuth" 2>/dev/null
chmod 600 "$key"
echo "https_cert: wrote $cert for ${names//,/ }"
for ip in $ips; do echo "  open https://$ip:${PORT:-8000}/ on the phone"; done
