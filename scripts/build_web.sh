#!/usr/bin/env bash
# Build the progressive web app: install the pinned npm packages and copy the zxing-wasm decoder into
# mobile_web/vendor/. Idempotent; needs Node 18+ and npm. Nothing is fetched by the app at run time.
set -euo pipefail
cd "$(dirname "$0")/../mobile_web"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
