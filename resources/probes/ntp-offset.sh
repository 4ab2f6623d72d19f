#!/bin/sh
# diagkit-probe: name=ntp-offset title="Clock sync (NTP)" timeout=10 description="Is the clock synchronised, and by how much is it off? Uses chronyc, ntpq or timedatectl, whichever exists."
# Plain-text output: WARNING:/CRITICAL: lines become findings (see diagkit.probes.user).
export LC_ALL=C
# Offsets in seconds; above WARN is a warning, above CRIT critical.
WARN=0.1
CRIT=1.0
if command -v chronyc >/dev/null 2>&1 && out=$(chronyc tracking 2>/dev/null) && [ -n "$out" ]; then
  echo "tool: chronyc"
  printf '%s\n' "$out"
  printf '%s\n' "$out" | awk -v w="$WARN" -v c="$CRIT" '
    /^Leap status/ && $0 ~ /Not synchronised/ { print "WARNING: chrony is not synchronised -- check chronyc sources -v" }
    /^System time/ { o=$4+0; if (o > c) print "CRITICAL: clock is off by " $4 " s -- check chronyc sources -v";
                     else if (o > w) print "WARNING: clock is off by " $4 " s -- check chronyc sources -v" }'
elif command -v ntpq >/dev/null 2>&1 && out=$(ntpq -pn 2>/dev/null) && [ -n "$out" ]; then
  echo "tool: ntpq"
  printf '%s\n' "$out"
  # The selected peer is marked with '*'; offset (ms) is the 9th column.
  printf '%s\n' "$out" | awk -v w="$WARN" -v c="$CRIT" '
    /^\*/ { sel=1; o=$9/1000; if (o < 0) o=-o
            if (o > c) print "CRITICAL: clock is off by " o " s from " substr($1,2)
            else if (o > w) print "WARNING: clock is off by " o " s from " substr($1,2) }
    END { if (!sel) print "WARNING: ntpd has no selected peer -- check ntpq -pn and the firewall (udp/123)" }'
elif command -v timedatectl >/dev/null 2>&1 && out=$(timedatectl show 2>/dev/null) && [ -n "$out" ]; then
  echo "tool: timedatectl"
  printf '%s\n' "$out"
  case "$out" in
    *NTPSynchronized=yes*) ;;
    *) echo "WARNING: the clock is not NTP-synchronised -- enable time sync: timedatectl set-ntp true" ;;
  esac
else
  echo "@@note no chronyc, ntpq or working timedatectl here: clock sync not checked"
  echo "INFO: clock synchronisation could not be checked (no NTP client tool found)"
fi
exit 0
