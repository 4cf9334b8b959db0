#!/usr/bin/env bash
# Drives the aws CLI, rclone and s3cmd, with their default settings, against a running Cairn S3
# endpoint (by default the one `npm start` prints): make a bucket, upload 1 KiB / 20 MiB / 100 MiB,
# list, download and compare sha256, copy, delete, remove the bucket. One PASS/FAIL line per step;
# exits non-zero when any step failed.
#
#   npm start                      # in another terminal
#   npm run test:clients           # or: tools/s3-clients.sh [--endpoint URL] [--clients "aws rclone s3cmd"]
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENDPOINT="${CAIRN_S3_ENDPOINT:-http://127.0.0.1:9000}"
CLIENTS="aws rclone s3cmd"
REGION="${CAIRN_S3_REGION:-us-east-1}"
while [ $# -gt 0 ]; do
  case "$1" in
    --endpoint) ENDPOINT="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    *) echo "usage: $0 [--endpoint URL] [--clients \"aws rclone s3cmd\"]" >&2; exit 2 ;;
  esac
done
# The development credentials `npm start` prints, unless given.
ACCESS_KEY="${CAIRN_S3_ACCESS_KEY:-$(node -p "require('$ROOT/tools/dev-stack/stack.js').DEV_ROOT_ACCESS_KEY")}"
SECRET_KEY="${CAIRN_S3_SECRET_KEY:-$(node -p "require('$ROOT/tools/dev-stack/stack.js').DEV_ROOT_SECRET_KEY")}"
HOST_PORT="${ENDPOINT#*://}"

FAILURES=0
STEPS=0
WORK="$(mktemp -d -t cairn-s3-clients-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

step() {
  local name="$1"; shift
  STEPS=$((STEPS + 1))
  local started=$SECONDS
  if "$@" >"$WORK/step.log" 2>&1; then
    printf 'PASS  %-44s %3ss\n' "$name" "$((SECONDS - started))"
  else
    FAILURES=$((FAILURES + 1))
    printf 'FAIL  %-44s %3ss\n' "$name" "$((SECONDS - started))"
    sed 's/^/      /' "$WORK/step.log" | tail -n 15
  fi
}

same_sha256() { [ "$(sha256sum < "$1" | cut -d' ' -f1)" = "$(sha256sum < "$2" | cut -d' ' -f1)" ]; }
lists_all() { for name in small.bin medium.bin large.bin; do grep -q "$name" "$1" || { echo "$name missing from the listing:"; cat "$1"; return 1; }; done; }

# --- tools --------------------------------------------------------------------------------------
declare -A PACKAGE=([aws]=awscli [rclone]=rclone [s3cmd]=s3cmd)
missing=()
for client in $CLIENTS; do command -v "$client" >/dev/null 2>&1 || missing+=("${PACKAGE[$client]}"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (apt)"
  if [ "$(id -u)" -eq 0 ]; then APT=(apt-get); else APT=(sudo apt-get); fi
  "${APT[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y -qq "${missing[@]}" >/dev/null || { echo "could not install ${missing[*]}"; exit 1; }
fi

if ! curl -fsS -o /dev/null "$ENDPOINT/health/live"; then
  echo "no Cairn endpoint answers at $ENDPOINT (run \`npm start\` first, or pass --endpoint)"; exit 1
fi

# --- test files ---------------------------------------------------------------------------------
head -c 1024 /dev/urandom > "$WORK/small.bin"
head -c $((20 * 1024 * 1024)) /dev/urandom > "$WORK/medium.bin"
head -c $((100 * 1024 * 1024)) /dev/urandom > "$WORK/large.bin"
FILES="small.bin medium.bin large.bin"
RUN_ID="$(date +%s)-$$"

# --- aws CLI ------------------------------------------------------------------------------------
run_aws() {
  export AWS_ACCESS_KEY_ID="$ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$SECRET_KEY" AWS_DEFAULT_REGION="$REGION"
  export AWS_CONFIG_FILE="$WORK/aws-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"
  : > "$AWS_CONFIG_FILE"; : > "$AWS_SHARED_CREDENTIALS_FILE"
  local a=(aws --endpoint-url "$ENDPOINT") b="aws-$RUN_ID" d="$WORK/aws-down"
  mkdir -p "$d"
  echo "== aws CLI ($(aws --version 2>&1 | cut -d' ' -f1))"
  step "aws: make bucket" "${a[@]}" s3 mb "s3://$b"
  for f in $FILES; do step "aws: upload $f" "${a[@]}" s3 cp "$WORK/$f" "s3://$b/$f"; done
  step "aws: list" bash -c "$(declare -f lists_all); $(printf '%q ' "${a[@]}") s3 ls s3://$b/ > $WORK/aws.ls && lists_all $WORK/aws.ls"
  for f in $FILES; do step "aws: download $f, same sha256" bash -c "$(declare -f same_sha256); $(printf '%q ' "${a[@]}") s3 cp s3://$b/$f $d/$f && same_sha256 $WORK/$f $d/$f"; done
  step "aws: copy medium.bin (server side)" "${a[@]}" s3 cp "s3://$b/medium.bin" "s3://$b/medium-copy.bin"
  step "aws: download the copy, same sha256" bash -c "$(declare -f same_sha256); $(printf '%q ' "${a[@]}") s3 cp s3://$b/medium-copy.bin $d/medium-copy.bin && same_sha256 $WORK/medium.bin $d/medium-copy.bin"
  for f in $FILES medium-copy.bin; do step "aws: delete $f" "${a[@]}" s3 rm "s3://$b/$f"; done
  step "aws: remove bucket" "${a[@]}" s3 rb "s3://$b"
}

# --- rclone -------------------------------------------------------------------------------------
run_rclone() {
  export RCLONE_CONFIG="$WORK/rclone.conf"
  # Debian's rclone 1.60 fails on any AWS_CA_BUNDLE ("unsupported transport"); the endpoint is plain HTTP.
  local ca_bundle="${AWS_CA_BUNDLE-}"
  unset AWS_CA_BUNDLE
  cat > "$RCLONE_CONFIG" <<CONF
[cairn]
type = s3
provider = Other
access_key_id = $ACCESS_KEY
secret_access_key = $SECRET_KEY
endpoint = $ENDPOINT
region = $REGION
CONF
  local b="rclone-$RUN_ID" d="$WORK/rclone-down"
  mkdir -p "$d"
  echo "== rclone ($(rclone version 2>/dev/null | head -1))"
  step "rclone: make bucket" rclone mkdir "cairn:$b"
  for f in $FILES; do step "rclone: upload $f" rclone copyto "$WORK/$f" "cairn:$b/$f"; done
  step "rclone: list" bash -c "$(declare -f lists_all); rclone lsf cairn:$b > $WORK/rclone.ls && lists_all $WORK/rclone.ls"
  for f in $FILES; do step "rclone: download $f, same sha256" bash -c "$(declare -f same_sha256); rclone copyto cairn:$b/$f $d/$f && same_sha256 $WORK/$f $d/$f"; done
  step "rclone: copy large.bin (server side)" rclone copyto "cairn:$b/large.bin" "cairn:$b/large-copy.bin"
  step "rclone: download the copy, same sha256" bash -c "$(declare -f same_sha256); rclone copyto cairn:$b/large-copy.bin $d/large-copy.bin && same_sha256 $WORK/large.bin $d/large-copy.bin"
  for f in $FILES large-copy.bin; do step "rclone: delete $f" rclone deletefile "cairn:$b/$f"; done
  step "rclone: remove bucket" rclone rmdir "cairn:$b"
  if [ -n "$ca_bundle" ]; then export AWS_CA_BUNDLE="$ca_bundle"; fi
}

# --- s3cmd --------------------------------------------------------------------------------------
run_s3cmd() {
  cat > "$WORK/s3cmd.cfg" <<CONF
[default]
access_key = $ACCESS_KEY
secret_key = $SECRET_KEY
host_base = $HOST_PORT
host_bucket = $HOST_PORT
bucket_location = $REGION
use_https = False
signature_v2 = False
CONF
  local s=(s3cmd -c "$WORK/s3cmd.cfg") b="s3cmd-$RUN_ID" d="$WORK/s3cmd-down"
  mkdir -p "$d"
  echo "== s3cmd ($(s3cmd --version 2>&1))"
  step "s3cmd: make bucket" "${s[@]}" mb "s3://$b"
  for f in $FILES; do step "s3cmd: upload $f" "${s[@]}" put "$WORK/$f" "s3://$b/$f"; done
  step "s3cmd: list" bash -c "$(declare -f lists_all); $(printf '%q ' "${s[@]}") ls s3://$b/ > $WORK/s3cmd.ls && lists_all $WORK/s3cmd.ls"
  for f in $FILES; do step "s3cmd: download $f, same sha256" bash -c "$(declare -f same_sha256); $(printf '%q ' "${s[@]}") get --force s3://$b/$f $d/$f && same_sha256 $WORK/$f $d/$f"; done
  step "s3cmd: copy small.bin (server side)" "${s[@]}" cp "s3://$b/small.bin" "s3://$b/small-copy.bin"
  step "s3cmd: download the copy, same sha256" bash -c "$(declare -f same_sha256); $(printf '%q ' "${s[@]}") get --force s3://$b/small-copy.bin $d/small-copy.bin && same_sha256 $WORK/small.bin $d/small-copy.bin"
  for f in $FILES small-copy.bin; do step "s3cmd: delete $f" "${s[@]}" del "s3://$b/$f"; done
  step "s3cmd: remove bucket" "${s[@]}" rb "s3://$b"
}

echo "Cairn S3 endpoint $ENDPOINT, key $ACCESS_KEY"
for client in $CLIENTS; do
  case "$client" in
    aws) run_aws ;;
    rclone) run_rclone ;;
    s3cmd) run_s3cmd ;;
    *) echo "unknown client $client"; FAILURES=$((FAILURES + 1)) ;;
  esac
done
echo "$((STEPS - FAILURES)) of $STEPS steps passed"
[ "$FAILURES" -eq 0 ]
