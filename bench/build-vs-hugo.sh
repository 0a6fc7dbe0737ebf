#!/usr/bin/env bash
# Old name of bench/build-vs-generators.sh (Cohort, Hugo and Zola on the same catalog).
exec bash "$(dirname "$0")/build-vs-generators.sh" "$@"
