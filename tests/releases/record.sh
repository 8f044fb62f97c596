#!/usr/bin/env bash
# Records a release's source here, as part of making the release (docs/contributing.md
# "Making a release"): bash tests/releases/record.sh vX.Y.Z
# The mixed-version tests build the previous release's node from this archive, and the
# wire-contract check compares protos/ with its protos, so neither needs the release's
# git tag or history: CI's clone of main carries neither. Only the latest release is kept.
set -euo pipefail
tag="${1:?usage: record.sh vX.Y.Z (an existing tag)}"
cd "$(dirname "$0")/../.."
git rev-parse -q --verify "refs/tags/$tag" >/dev/null || { echo "No tag $tag here."; exit 1; }
rm -f tests/releases/v*.tar.gz
# What building the node needs. git archive writes the tagged commit into the archive
# (git get-tar-commit-id reads it back) and is the same bytes each time for one tag.
git archive --format=tar "$tag" .editorconfig Directory.Build.props Directory.Packages.props protos src \
  | gzip -9n > "tests/releases/$tag.tar.gz"
echo "Recorded $tag ($(gzip -dc "tests/releases/$tag.tar.gz" | git get-tar-commit-id)) in tests/releases/$tag.tar.gz"
