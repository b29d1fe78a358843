# tests/browser/lib/browser.sh — sourced by the browser tests after
# ../integration/lib/common.sh: finds Debian's chromium (CHROMIUM, exported for
# the Python checkers) and python3, and makes ART (BUILD/artifacts) for the
# screenshots. Without them the test is skipped (exit 77, shown by ctest as
# skipped), except under CI or scripts/test (CI or CAIRN_REQUIRE_BROWSER set),
# where it fails: scripts/test installs Debian's chromium.
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ] || ! command -v python3 >/dev/null; then
  if [ -n "${CI:-}" ] || [ -n "${CAIRN_REQUIRE_BROWSER:-}" ]; then
    fail "chromium or python3 is missing: install Debian's chromium and python3 (scripts/deps browser)"
  fi
  echo "$NAME: SKIP: no chromium (scripts/deps browser installs it; under CI this fails)"
  exit 77
fi
export CHROMIUM
ART=$BUILD/artifacts
mkdir -p "$ART"
