#!/bin/sh
# A stand-in for a batch step: prints what it does, sleeps a little, exits with $2 (default 0).
# Usage: step.sh NAME [EXIT_CODE] [SECONDS]
name=${1:-step}
code=${2:-0}
secs=${3:-0.2}
echo "[$name] start $(date +%H:%M:%S) vparam=${WOI_VPARAM:-}"
sleep "$secs"
echo "ROWS=$(( $(date +%s) % 1000 ))"
echo "[$name] end with $code"
exit "$code"
