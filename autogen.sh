#!/bin/sh
# Regenerate configure, Makefile.in and the build-aux/ and m4/ helpers.
# Needs autoconf, automake, libtool, pkgconf and autoconf-archive.
set -e
cd "$(dirname "$0")"
mkdir -p m4
exec autoreconf -fi
