#!/usr/bin/env bash
# The wire contract's checks (docs/protocol.md "Compatibility"), run by tests/run.sh:
#  1. buf lint on protos/ (rules in buf.yaml);
#  2. buf breaking: protos/ against the latest release's (its source is recorded in
#     tests/releases/, since CI's clone has no tags), so a change that is not additive
#     fails unless it comes as a new major version (a new package);
#  3. the check itself: a copy of protos/ with a field removed must fail step 2, so a
#     check that cannot fail is noticed.
# buf comes from npm, pinned in package.json and package-lock.json here.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

if [ ! -x "$here/node_modules/.bin/buf" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || { echo "Could not install buf from npm (tests/proto-compat)."; exit 1; }
fi
buf="$here/node_modules/.bin/buf"

archive=$(ls tests/releases/v[0-9]*.tar.gz 2>/dev/null | sort -V | tail -n 1)
if [ -z "$archive" ]; then
  echo "No release recorded in tests/releases/: the breaking-change check needs the latest release to compare with"
  echo "(bash tests/releases/record.sh vX.Y.Z records one)."
  exit 1
fi
release=$(basename "$archive" .tar.gz)
against="$root/$archive#format=tar,compression=gzip,subdir=protos"

"$buf" lint || { echo "buf lint: the protos break a lint rule (buf.yaml)."; exit 1; }
if ! "$buf" breaking --against "$against"; then
  echo "buf breaking: protos/ is not wire-compatible with $release. Within a major version changes are additive"
  echo "and removed fields are reserved (docs/protocol.md \"Compatibility\")."
  exit 1
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r protos buf.yaml "$scratch/"
# Remove a field the release has, without reserving its number.
sed -i '/string key_id = 8;/d' "$scratch/protos/federation/v1/envelope.proto"
(cd "$scratch" && "$buf" breaking protos --against "$against" >/dev/null 2>&1)
# 100: buf found breaking changes (any other code is buf failing to run, not the check working).
if [ $? -ne 100 ]; then
  echo "The breaking-change check did not refuse a removed field: it cannot fail, so it checks nothing."
  exit 1
fi
echo "Wire contract: lint clean, compatible with $release, and the check refuses a removed field."
