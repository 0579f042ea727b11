#!/usr/bin/env python3
"""Lists the container images of a rendered manifest, one `KIND/NAME CONTAINER IMAGE` line each.

  manifest-images.py RENDERED.yaml                 every workload's containers and init containers
  manifest-images.py RENDERED.yaml --repo orderly  only images whose repository ends in /orderly (or is orderly)
  manifest-images.py RENDERED.yaml --repo orderly --names   just the distinct image names, without tag or digest

Used by ci-deploy.sh (which image name the overlay renders, and that every one is now a digest reference) and by
the rehearsal. Needs PyYAML.
"""
import argparse
import sys

import yaml


def pod_spec(doc):
    spec = doc.get("spec") or {}
    if doc.get("kind") == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return (spec.get("template") or {}).get("spec")


def images(path):
    for doc in yaml.safe_load_all(open(path)):
        if not doc:
            continue
        spec = pod_spec(doc)
        if not spec:
            continue
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            yield f"{doc['kind']}/{doc['metadata']['name']}", c["name"], c["image"]


def name_of(image):
    image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return image[: len(image) - len(last)] + last.split(":", 1)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--repo", help="keep images whose last path component is this")
    parser.add_argument("--names", action="store_true")
    args = parser.parse_args()
    found = [i for i in images(args.file) if not args.repo or name_of(i[2]).rsplit("/", 1)[-1] == args.repo]
    if not found:
        sys.exit(f"manifest-images: no {args.repo or ''} images in {args.file}")
    if args.names:
        print("\n".join(sorted({name_of(image) for _, _, image in found})))
    else:
        for workload, container, image in found:
            print(workload, container, image)


if __name__ == "__main__":
    main()
