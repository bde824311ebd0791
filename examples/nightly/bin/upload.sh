#!/bin/sh
# Uploads the report; fails (exit 9) until the recovery job has prepared the
# target (a marker file under woi-data/, relative to where woi runs).
marker="woi-data/upload-target.ready"
if [ -f "$marker" ]; then
  echo "[upload] uploaded"
  exit 0
fi
echo "[upload] target not prepared" >&2
exit 9
