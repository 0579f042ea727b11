#!/usr/bin/env python3
"""Checks a CycloneDX SBOM against the crates the binary links.

Usage: cargo tree --edges normal --prefix none --format '{p}' | check-sbom.py SBOM.json

Every `name vVERSION` line of the tree (Orderly itself aside) must be a component of the SBOM with that version,
and the SBOM must describe Orderly at the Cargo.toml version. Exits 1 naming what is missing.
"""
import json
import re
import sys


def main():
    sbom = json.load(open(sys.argv[1]))
    if sbom.get("bomFormat") != "CycloneDX":
        sys.exit(f"{sys.argv[1]}: not a CycloneDX document")
    subject = sbom.get("metadata", {}).get("component", {})
    listed = {(c.get("name"), c.get("version")) for c in sbom.get("components", [])}
    linked = set()
    for line in sys.stdin:
        m = re.match(r"^(\S+) v(\S+)", line.strip())
        if m:
            linked.add((m.group(1), m.group(2)))
    linked.discard((subject.get("name"), subject.get("version")))
    if subject.get("name") != "orderly":
        sys.exit(f"the SBOM describes {subject.get('name')!r}, not orderly")
    missing = sorted(linked - listed)
    if missing:
        sys.exit("the SBOM lacks linked crates: " + ", ".join(f"{n} {v}" for n, v in missing[:20]))
    print(f"SBOM: {len(listed)} components, every one of the {len(linked)} linked crates listed")


if __name__ == "__main__":
    main()
