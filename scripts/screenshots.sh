#!/usr/bin/env bash
# Render the main screens to docs/screenshots/*.png on a virtual X screen (Xvfb), with Qt's real
# window system (xcb). Needs Debian's xvfb and Qt's xcb libraries (see README, command 1).
set -euo pipefail
cd "$(dirname "$0")/.."
for n in $(seq 90 120); do [ -e /tmp/.X11-unix/X$n ] || [ -e /tmp/.X$n-lock ] || { disp=:$n; break; }; done
Xvfb "$disp" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 & xpid=$!
trap 'kill $xpid 2>/dev/null' EXIT
sleep 1
DISPLAY=$disp QT_QPA_PLATFORM=xcb "${PYTHON:-python3}" scripts/screenshots.py
DISPLAY=$disp QT_QPA_PLATFORM=xcb "${PYTHON:-python3}" scripts/screenshots.py --dark
