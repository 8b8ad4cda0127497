#!/bin/sh
# Makes nginx's HTTPS certificate when none is there, so that `docker compose
# up` comes up on a fresh machine (issue 19). compose.yaml mounts it into
# /docker-entrypoint.d/, which the official nginx image runs before nginx.
#
# - A certificate and key already in $WALLCAST_TLS_DIR (yours, mounted there,
#   or one made by an earlier start in the nginx-tls volume) are used as they are.
# - Otherwise a self-signed one for $WALLCAST_TLS_NAMES, valid for
#   $WALLCAST_TLS_DAYS days: browsers warn until you trust it or mount a real one.
# test/e2e/deploy-compose.test.ts runs this script with a test directory.
set -eu

dir="${WALLCAST_TLS_DIR:-/etc/nginx/tls}"
names="${WALLCAST_TLS_NAMES:-DNS:localhost,IP:127.0.0.1}"
days="${WALLCAST_TLS_DAYS:-825}"
cert="$dir/wallcast.crt"
key="$dir/wallcast.key"

if [ -s "$cert" ] && [ -s "$key" ]; then
  echo "wallcast: using the certificate in $cert"
  exit 0
fi
if [ -e "$cert" ] || [ -e "$key" ]; then
  echo "wallcast: $dir has one of wallcast.crt and wallcast.key but not both (or one is empty); refusing to replace it" >&2
  exit 1
fi
if ! command -v openssl >/dev/null 2>&1; then
  echo "wallcast: no openssl in this image to make a certificate: mount wallcast.crt and wallcast.key into $dir" >&2
  exit 1
fi

mkdir -p "$dir"
# Written beside, then renamed: a start cut short never leaves half a pair.
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -days "$days" -subj "/CN=wallcast" -addext "subjectAltName=$names" \
  -keyout "$key.new" -out "$cert.new"
chmod 644 "$cert.new"
mv "$key.new" "$key"
mv "$cert.new" "$cert"
echo "wallcast: made a self-signed certificate for $names in $cert (valid $days days)"
