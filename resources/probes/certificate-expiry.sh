#!/bin/sh
# diagkit-probe: name=certificate-expiry title="Certificate expiry" timeout=10 description="Days left on TLS certificates in the usual places (or CERT_FILES), via openssl."
# Plain-text output: WARNING:/CRITICAL: lines become findings (see diagkit.probes.user).
# CERT_FILES (space-separated paths) replaces the default list when set.
export LC_ALL=C
WARN_DAYS=30
CRIT_DAYS=7
if ! command -v openssl >/dev/null 2>&1; then
  echo "@@note openssl is not installed: certificates not checked"
  exit 0
fi
files=${CERT_FILES:-"/etc/ssl/certs/ssl-cert-snakeoil.pem /etc/pki/tls/certs/localhost.crt /etc/letsencrypt/live/*/cert.pem /etc/nginx/ssl/*.crt /etc/nginx/ssl/*.pem /etc/apache2/ssl/*.crt"}
n=0
for f in $files; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  if [ ! -r "$f" ]; then echo "@@note $f is not readable"; continue; fi
  end=$(openssl x509 -noout -enddate -in "$f" 2>/dev/null | sed 's/^notAfter=//')
  subject=$(openssl x509 -noout -subject -in "$f" 2>/dev/null | sed 's/^subject=[ ]*//')
  if [ -z "$end" ]; then echo "WARNING: $f is not a readable PEM certificate"; continue; fi
  echo "$f: $subject, expires $end"
  if ! openssl x509 -noout -checkend 0 -in "$f" >/dev/null 2>&1; then
    echo "CRITICAL: $f has EXPIRED ($end) -- renew it and reload the service using it"
  elif ! openssl x509 -noout -checkend $((CRIT_DAYS * 86400)) -in "$f" >/dev/null 2>&1; then
    echo "CRITICAL: $f expires within $CRIT_DAYS days ($end) -- renew it now"
  elif ! openssl x509 -noout -checkend $((WARN_DAYS * 86400)) -in "$f" >/dev/null 2>&1; then
    echo "WARNING: $f expires within $WARN_DAYS days ($end) -- plan the renewal"
  fi
done
[ "$n" -gt 0 ] || echo "@@note no certificate found in: $files"
exit 0
