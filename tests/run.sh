#!/usr/bin/env bash
# The project's test command (README: "Run the tests"). Builds everything, runs every
# test project, and ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

# The dashboard's browser tests drive Debian's Chromium (no browser download works here).
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the dashboard tests..."
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null \
    || echo "Could not install chromium; the dashboard tests will fail."
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

dotnet build Federation.sln -c Release -nologo -clp:ErrorsOnly
build=$?
if [ $build -ne 0 ]; then
  echo "The build failed; no tests ran."
  echo "0 passed, 1 failed"
  exit 1
fi

status=0
for project in tests/*/*.Tests.csproj; do
  # One results folder per project: trx names carry only a timestamp and could collide.
  dir="$results/$(basename "$project" .csproj)"
  dotnet test "$project" -c Release --no-build -nologo --logger "trx" --results-directory "$dir" "$@" || status=1
done

passed=0
failed=0
for f in "$results"/*/*.trx; do
  [ -e "$f" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$f")
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  x=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${x:-0}))
done

if [ $status -ne 0 ] && [ $failed -eq 0 ]; then
  # dotnet test failed without a failed test (a crashed test host, say): count it.
  failed=1
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
