#!/usr/bin/env bash
# Lints the OpenAPI document that handlers.New serves, with Redocly CLI's
# recommended rules, every warning counting as an error
# (recommended-strict): the document served with default Options, and the
# document of an app (root prefix, its own /me fields, error codes and
# license), and the admin API's own document (admin.Document). Only the
# first and the admin one skip info-license: a license is the app's to give
# (handlers.Options.License).
#
# Needs Node.js and npm (the npm registry); Redocly CLI is pinned and
# installed by npx into .cache/npm inside the repository, so nothing is
# cached elsewhere and a second run reuses it.
set -euo pipefail
cd "$(dirname "$0")/.."
REDOCLY_CLI=@redocly/cli@2.77.0

export npm_config_cache="$PWD/.cache/npm" npm_config_update_notifier=false \
  npm_config_fund=false npm_config_audit=false \
  REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
out="$PWD/.cache/openapi"
rm -rf "$out" && mkdir -p "$out"

go run ./internal/cmd/openapidoc -o "$out/default.json"
go run ./internal/cmd/openapidoc -prefix / -app-fields -o "$out/app.json"
go run ./internal/cmd/adminopenapidoc -server /admin -o "$out/admin.json"

npx --yes "$REDOCLY_CLI" lint --extends recommended-strict --skip-rule info-license "$out/default.json"
npx --yes "$REDOCLY_CLI" lint --extends recommended-strict "$out/app.json"
npx --yes "$REDOCLY_CLI" lint --extends recommended-strict --skip-rule info-license "$out/admin.json"
