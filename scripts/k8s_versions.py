#!/usr/bin/env python3
"""Prints, for each Kubernetes version asked for, the one kubernetes-validate will check against: the same if its
bundled schemas have it, else the closest it has (said on stderr, so a missing schema never passes unnoticed)."""
import os
import re
import sys

import kubernetes_validate

schemas = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema")
have = sorted({tuple(map(int, m.groups())) for d in os.listdir(schemas) if (m := re.fullmatch(r"v(\d+)\.(\d+)\.0-local-strict", d))})
for wanted in sys.argv[1:]:
    major, minor = map(int, wanted.split(".")[:2])
    best = min(have, key=lambda v: (abs(v[1] - minor) if v[0] == major else 1000, -v[1]))
    if best != (major, minor):
        print(f"k8s_versions: kubernetes-validate has no {major}.{minor} schema; using {best[0]}.{best[1]}", file=sys.stderr)
    print(f"{best[0]}.{best[1]}.0")
