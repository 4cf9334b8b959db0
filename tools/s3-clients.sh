#!/usr/bin/env bash
# Drives the aws CLI, rclone and s3cmd, with their default settings, against a running Cairn S3
# endpoint (by default the one `npm start` prints): make a bucket, upload 1 KiB / 20 MiB / 100 MiB,
# list, download and compare sha256, copy, delete, remove the bucket; the aws CLI also a presigned
# GET. Then restic (init, backup, check --read-data, restore, forget --prune) and an s3fs mount
# (copy, append, rename, mkdir/rmdir, truncate, a write in place, rsync, all read back after a
# remount). One PASS/FAIL line per step (SKIP where the machine cannot, e.g. no /dev/fuse for s3fs);
# exits non-zero when any step failed.
#
#   npm start                      # in another terminal
#   npm run test:clients           # or: tools/s3-clients.sh [--endpoint URL] [--clients "aws rclone s3cmd restic s3fs"]
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENDPOINT="${CAIRN_S3_ENDPOINT:-http://127.0.0.1:9000}"
CLIENTS="aws rclone s3cmd restic s3fs"
REGION="${CAIRN_S3_REGION:-us-east-1}"
while [ $# -gt 0 ]; do
  case "$1" in
    --endpoint) ENDPOINT="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    *) echo "usage: $0 [--endpoint URL] [--clients \"aws rclone s3cmd restic s3fs\"]" >&2; exit 2 ;;
  esac
done
# The development credentials `npm start` prints, unless given.
ACCESS_KEY="${CAIRN_S3_ACCESS_KEY:-$(node -p "require('$ROOT/tools/dev-stack/stack.js').DEV_ROOT_ACCESS_KEY")}"
SECRET_KEY="${CAIRN_S3_SECRET_KEY:-$(node -p "require('$ROOT/tools/dev-stack/stack.js').DEV_ROOT_SECRET_KEY")}"
HOST_PORT="${ENDPOINT#*://}"

FAILURES=0
STEPS=0
WORK="$(mktemp -d -t cairn-s3-clients-XXXXXX)"
MOUNT="$WORK/s3fs-mount"
# An s3fs mount left behind would keep a FUSE process and pin $WORK.
trap 'if mountpoint -q "$MOUNT" 2>/dev/null; then fusermount -u "$MOUNT" 2>/dev/null || umount -l "$MOUNT"; fi; rm -rf "$WORK"' EXIT

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
declare -A PACKAGE=([aws]=awscli [rclone]=rclone [s3cmd]=s3cmd [restic]=restic [s3fs]=s3fs)
missing=()
for client in $CLIENTS; do command -v "$client" >/dev/null 2>&1 || missing+=("${PACKAGE[$client]}"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (apt)"
  if [ "$(id -u)" -eq 0 ]; then APT=(apt-get); else APT=(sudo apt-get); fi
  "${APT[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y -qq "${missing[@]}" >/dev/null || { echo "could not install ${missing[*]}"; exit 1; }
fi

# `npm start -- --tls`: pass --endpoint https://127.0.0.1:9000 with AWS_CA_BUNDLE=.cairn/tls/ca.pem; every client is given that CA.
CA_BUNDLE="${AWS_CA_BUNDLE-}"
if ! curl -fsS ${CA_BUNDLE:+--cacert "$CA_BUNDLE"} -o /dev/null "$ENDPOINT/health/live"; then
  echo "no Cairn endpoint answers at $ENDPOINT (run \`npm start\` first, or pass --endpoint)"; exit 1
fi

# --- test files ---------------------------------------------------------------------------------
head -c 1024 /dev/urandom > "$WORK/small.bin"
head -c $((20 * 1024 * 1024)) /dev/urandom > "$WORK/medium.bin"
head -c $((100 * 1024 * 1024)) /dev/urandom > "$WORK/large.bin"
FILES="small.bin medium.bin large.bin"
# A tree for restic and rsync: a few hundred small files in nested directories, names with spaces, and the 20 MiB file.
mkdir -p "$WORK/tree/a/b/c" "$WORK/tree/d"
for i in $(seq 1 300); do head -c $((i * 97)) /dev/urandom > "$WORK/tree/a/f$i.bin"; done
for i in $(seq 1 40); do echo "note $i" > "$WORK/tree/a/b/c/note $i.txt"; done
cp "$WORK/medium.bin" "$WORK/tree/d/medium.bin"
RUN_ID="$(date +%s)-$$"

# --- aws CLI ------------------------------------------------------------------------------------
run_aws() {
  export AWS_ACCESS_KEY_ID="$ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$SECRET_KEY" AWS_DEFAULT_REGION="$REGION"
  export AWS_CONFIG_FILE="$WORK/aws-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"
  # The aws CLI v1 presigns with Signature Version 2 unless told otherwise, which Cairn (like S3's newer regions) refuses.
  printf '[default]\ns3 =\n    signature_version = s3v4\n' > "$AWS_CONFIG_FILE"; : > "$AWS_SHARED_CREDENTIALS_FILE"
  local a=(aws --endpoint-url "$ENDPOINT") b="aws-$RUN_ID" d="$WORK/aws-down"
  mkdir -p "$d"
  echo "== aws CLI ($(aws --version 2>&1 | cut -d' ' -f1))"
  step "aws: make bucket" "${a[@]}" s3 mb "s3://$b"
  for f in $FILES; do step "aws: upload $f" "${a[@]}" s3 cp "$WORK/$f" "s3://$b/$f"; done
  step "aws: list" bash -c "$(declare -f lists_all); $(printf '%q ' "${a[@]}") s3 ls s3://$b/ > $WORK/aws.ls && lists_all $WORK/aws.ls"
  for f in $FILES; do step "aws: download $f, same sha256" bash -c "$(declare -f same_sha256); $(printf '%q ' "${a[@]}") s3 cp s3://$b/$f $d/$f && same_sha256 $WORK/$f $d/$f"; done
  step "aws: copy medium.bin (server side)" "${a[@]}" s3 cp "s3://$b/medium.bin" "s3://$b/medium-copy.bin"
  step "aws: download the copy, same sha256" bash -c "$(declare -f same_sha256); $(printf '%q ' "${a[@]}") s3 cp s3://$b/medium-copy.bin $d/medium-copy.bin && same_sha256 $WORK/medium.bin $d/medium-copy.bin"
  step "aws: presigned GET with curl, same sha256" bash -c "$(declare -f same_sha256); url=\$($(printf '%q ' "${a[@]}") s3 presign s3://$b/medium.bin --expires-in 300) && curl -fsS ${CA_BUNDLE:+--cacert $(printf %q "$CA_BUNDLE")} -o $d/medium-presigned.bin \"\$url\" && same_sha256 $WORK/medium.bin $d/medium-presigned.bin"
  for f in $FILES medium-copy.bin; do step "aws: delete $f" "${a[@]}" s3 rm "s3://$b/$f"; done
  step "aws: remove bucket" "${a[@]}" s3 rb "s3://$b"
}

# --- rclone -------------------------------------------------------------------------------------
run_rclone() {
  export RCLONE_CONFIG="$WORK/rclone.conf"
  # Debian's rclone 1.60 fails on any AWS_CA_BUNDLE ("unsupported transport"); it takes the CA as --ca-cert instead.
  unset AWS_CA_BUNDLE
  if [ -n "$CA_BUNDLE" ]; then export RCLONE_CA_CERT="$CA_BUNDLE"; fi
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
  unset RCLONE_CA_CERT
  if [ -n "$CA_BUNDLE" ]; then export AWS_CA_BUNDLE="$CA_BUNDLE"; fi
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
use_https = $([ "${ENDPOINT%%://*}" = https ] && echo True || echo False)
ca_certs_file = $CA_BUNDLE
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

# --- restic -------------------------------------------------------------------------------------
run_restic() {
  local b="restic-$RUN_ID" d="$WORK/restic-restore"
  export AWS_ACCESS_KEY_ID="$ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$SECRET_KEY" AWS_DEFAULT_REGION="$REGION"
  export RESTIC_REPOSITORY="s3:$ENDPOINT/$b" RESTIC_PASSWORD="cairn-s3-clients" RESTIC_CACHE_DIR="$WORK/restic-cache"
  local r=(restic ${CA_BUNDLE:+--cacert "$CA_BUNDLE"})
  echo "== restic ($(restic version 2>/dev/null | cut -d' ' -f1-2))"
  step "restic: init (makes the bucket)" "${r[@]}" init
  step "restic: backup a tree of 341 files" "${r[@]}" backup "$WORK/tree"
  step "restic: check --read-data" "${r[@]}" check --read-data
  step "restic: second backup after a change" bash -c "echo changed >> $WORK/tree/a/f1.bin && rm $WORK/tree/a/f2.bin && $(printf '%q ' "${r[@]}") backup $WORK/tree"
  step "restic: restore latest, same tree" bash -c "$(printf '%q ' "${r[@]}") restore latest --target $d && diff -r $WORK/tree $d$WORK/tree"
  step "restic: forget --keep-last 1 --prune" "${r[@]}" forget --keep-last 1 --prune
  step "restic: check --read-data after the prune" "${r[@]}" check --read-data
  step "restic: remove the repository and bucket" purge_bucket "$b"
  unset RESTIC_REPOSITORY RESTIC_PASSWORD RESTIC_CACHE_DIR
}

# --- s3fs ---------------------------------------------------------------------------------------
run_s3fs() {
  local b="s3fs-$RUN_ID" m="$MOUNT"
  echo "== s3fs ($(s3fs --version 2>/dev/null | head -1 | sed 's/.*System V/V/; s/ (.*//'))"
  if [ ! -e /dev/fuse ] || ! command -v fusermount >/dev/null 2>&1; then echo "SKIP  s3fs: no /dev/fuse or fusermount here"; return; fi
  printf '%s:%s\n' "$ACCESS_KEY" "$SECRET_KEY" > "$WORK/s3fs-passwd"; chmod 600 "$WORK/s3fs-passwd"
  mkdir -p "$m"
  # s3fs reads its CA bundle from CURL_CA_BUNDLE (for `npm start -- --tls`).
  local mount=(env ${CA_BUNDLE:+CURL_CA_BUNDLE="$CA_BUNDLE"} s3fs "$b" "$m" -o "passwd_file=$WORK/s3fs-passwd" -o "url=$ENDPOINT" -o use_path_request_style -o "endpoint=$REGION" -o dbglevel=warn -o "logfile=$WORK/s3fs.log")
  step "s3fs: make bucket (aws CLI or rclone)" make_bucket "$b"
  step "s3fs: mount" bash -c "$(printf '%q ' "${mount[@]}") && for _ in \$(seq 50); do mountpoint -q $m && exit 0; sleep 0.1; done; cat $WORK/s3fs.log; exit 1"
  mountpoint -q "$m" || return
  step "s3fs: cp medium.bin in, cmp" bash -c "cp $WORK/medium.bin $m/medium.bin && cmp $WORK/medium.bin $m/medium.bin"
  step "s3fs: write, append (>>), cat" bash -c "echo hello > $m/note.txt && echo world >> $m/note.txt && [ \"\$(cat $m/note.txt)\" = \"\$(printf 'hello\\nworld')\" ]"
  step "s3fs: rename" bash -c "mv $m/note.txt $m/renamed.txt && [ ! -e $m/note.txt ] && grep -q world $m/renamed.txt"
  step "s3fs: mkdir, nested file, ls -la, rmdir" bash -c "mkdir -p $m/dir/sub && echo x > $m/dir/sub/f && ls -la $m/dir/sub | grep -q ' f\$' && rm $m/dir/sub/f && rmdir $m/dir/sub $m/dir && [ ! -e $m/dir ]"
  step "s3fs: truncate shorter and longer" bash -c "truncate -s 5 $m/renamed.txt && [ \"\$(cat $m/renamed.txt)\" = hello ] && truncate -s 100 $m/renamed.txt && [ \"\$(stat -c %s $m/renamed.txt)\" = 100 ]"
  cp "$WORK/medium.bin" "$WORK/medium-patched.bin"
  printf 'CAIRN' | dd of="$WORK/medium-patched.bin" bs=1 seek=$((7 * 1024 * 1024 + 3)) conv=notrunc status=none
  step "s3fs: write in place (dd conv=notrunc)" bash -c "printf CAIRN | dd of=$m/medium.bin bs=1 seek=$((7 * 1024 * 1024 + 3)) conv=notrunc status=none && cmp $WORK/medium-patched.bin $m/medium.bin"
  step "s3fs: rsync -a a tree in, and again (nothing to do)" bash -c "rsync -a $WORK/tree/ $m/tree/ && [ -z \"\$(rsync -a -i $WORK/tree/ $m/tree/)\" ]"
  step "s3fs: remount, everything reads back" bash -c "fusermount -u $m && $(printf '%q ' "${mount[@]}") && for _ in \$(seq 50); do mountpoint -q $m && break; sleep 0.1; done && cmp $WORK/medium-patched.bin $m/medium.bin && [ \"\$(stat -c %s $m/renamed.txt)\" = 100 ] && diff -r $WORK/tree $m/tree"
  step "s3fs: rm -rf, unmount" bash -c "rm -rf $m/tree $m/medium.bin $m/renamed.txt && [ -z \"\$(ls -A $m)\" ] && fusermount -u $m"
  mountpoint -q "$m" && fusermount -u "$m"
  step "s3fs: remove bucket" purge_bucket "$b"
}

# Bucket chores for restic and s3fs, with whichever of the other clients is installed.
make_bucket() {
  if command -v aws >/dev/null 2>&1; then aws_plain s3 mb "s3://$1"
  elif command -v rclone >/dev/null 2>&1; then rclone_plain mkdir ":s3:$1"
  else echo "needs the aws CLI or rclone to make a bucket"; return 1; fi
}
purge_bucket() {
  if command -v aws >/dev/null 2>&1; then aws_plain s3 rb --force "s3://$1"
  elif command -v rclone >/dev/null 2>&1; then rclone_plain purge ":s3:$1"
  else echo "needs the aws CLI or rclone to remove a bucket"; return 1; fi
}
aws_plain() {
  AWS_ACCESS_KEY_ID="$ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$SECRET_KEY" AWS_DEFAULT_REGION="$REGION" \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null aws --endpoint-url "$ENDPOINT" "$@"
}
rclone_plain() {
  env -u AWS_CA_BUNDLE rclone ${CA_BUNDLE:+--ca-cert "$CA_BUNDLE"} --s3-provider Other --s3-access-key-id "$ACCESS_KEY" --s3-secret-access-key "$SECRET_KEY" --s3-endpoint "$ENDPOINT" --s3-region "$REGION" "$@"
}

echo "Cairn S3 endpoint $ENDPOINT, key $ACCESS_KEY"
for client in $CLIENTS; do
  case "$client" in
    aws) run_aws ;;
    rclone) run_rclone ;;
    s3cmd) run_s3cmd ;;
    restic) run_restic ;;
    s3fs) run_s3fs ;;
    *) echo "unknown client $client"; FAILURES=$((FAILURES + 1)) ;;
  esac
done
echo "$((STEPS - FAILURES)) of $STEPS steps passed"
[ "$FAILURES" -eq 0 ]
