#!/usr/bin/env python3
"""Offline schema validation of rendered manifests (`kubectl kustomize` output).

  k8s_validate.py split CRD_DIR RENDERED.yaml OUT.yaml
      writes the built-in objects to OUT.yaml for `kubernetes-validate --strict`, plus each Rollout's pod template
      wrapped in a Deployment (the Rollout CRD leaves volumes and resources unchecked; this checks them)
  k8s_validate.py crds CRD_DIR RENDERED.yaml...
      validates every object of a kind defined in CRD_DIR strictly against the CRD's openAPIV3Schema (see
      deploy/k8s/crds/README.md for what strict means), then proves the strictness bites: an unknown field
      added to each object, top level and nested, must fail. Objects of a CRD group with no CRD fail too.

Which kinds are custom is read from the CRD files themselves (group, kind and served versions), so a CRD copied
into CRD_DIR is used with no change here. `split` refuses an object of a custom API group (a dotted group outside
*.k8s.io) that no CRD in CRD_DIR defines, rather than handing it to kubernetes-validate, which cannot check it.

Needs PyYAML and jsonschema.
"""
import copy
import glob
import os
import sys

import jsonschema
import yaml

OBJECT_META = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"}, "namespace": {"type": "string"}, "generateName": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def die(msg):
    sys.exit(f"k8s_validate: {msg}")


def load_crds(crd_dir):
    crds = {}
    for path in sorted(glob.glob(os.path.join(crd_dir, "*.yaml"))):
        crd = yaml.safe_load(open(path))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                crds[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return crds


def strict(node):
    """openAPIV3Schema -> JSON Schema that refuses what the API server would prune."""
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items() if not k.startswith("x-kubernetes-") and k != "nullable"}
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in node:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("x-kubernetes-embedded-resource"):
        out.setdefault("properties", {}).update(
            {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": OBJECT_META})
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    is_object = node.get("type") == "object" or "properties" in node
    if is_object and "additionalProperties" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


class KubeLoader(yaml.SafeLoader):
    """YAML as kubectl reads it: an unquoted date or time stays a string (kustomize drops the quotes around, say, a
    CloudNativePG recoveryTarget.targetTime, and YAML 1.1 would turn it into a timestamp)."""


KubeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def docs(paths):
    for path in paths:
        for doc in yaml.load_all(open(path), Loader=KubeLoader):
            if doc:
                yield path, doc


def is_custom_group(api_version):
    """Built-in groups are core (v1), the undotted ones (apps, batch, policy, autoscaling) and *.k8s.io."""
    group = api_version.split("/")[0] if "/" in api_version else ""
    return "." in group and not group.endswith(".k8s.io")


def split(crd_dir, rendered, out_path):
    crds = load_crds(crd_dir)
    groups = {key[0].split("/")[0] for key in crds}
    builtin, missing = [], []
    for _, doc in docs([rendered]):
        if doc["apiVersion"].split("/")[0] not in groups:
            if is_custom_group(doc["apiVersion"]):
                missing.append(f"{doc['kind']}/{doc['metadata']['name']} ({doc['apiVersion']})")
                continue
            builtin.append(doc)
        if doc["kind"] == "Rollout":
            spec = doc["spec"]
            builtin.append({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": f"rollout-{doc['metadata']['name']}-template",
                             "namespace": doc["metadata"].get("namespace", "default")},
                "spec": {"selector": spec["selector"], "template": spec["template"]},
            })
    if missing:
        die(f"no CRD in {crd_dir} for " + ", ".join(missing) + ": copy it there (deploy/k8s/crds/README.md)")
    with open(out_path, "w") as out:
        yaml.safe_dump_all(builtin, out, sort_keys=False)
    print(f"{len(builtin)} built-in objects (Rollout pod templates included) -> {out_path}")


def validate(crd_dir, rendered_paths):
    crds = load_crds(crd_dir)
    groups = {key[0].split("/")[0] for key in crds}
    validators = {key: jsonschema.Draft7Validator(with_meta(strict(schema))) for key, schema in crds.items()}
    failures, checked = [], {}
    for path, doc in docs(rendered_paths):
        key = (doc["apiVersion"], doc["kind"])
        where = f"{os.path.basename(path)}: {doc['kind']}/{doc['metadata']['name']}"
        if key not in validators:
            if doc["apiVersion"].split("/")[0] in groups:
                failures.append(f"{where}: no CRD for {key[0]} {key[1]}")
            continue
        checked[doc["kind"]] = checked.get(doc["kind"], 0) + 1
        for err in validators[key].iter_errors(doc):
            failures.append(f"{where}: {'.'.join(str(p) for p in err.absolute_path)}: {err.message}")
        # The check must bite: an unknown field at the top of spec and deep inside it has to be refused.
        for mutated, spot in mutations(doc):
            if validators[key].is_valid(mutated):
                failures.append(f"{where}: an unknown field at {spot} was accepted; validation is not strict")
    if failures:
        die("\n  " + "\n  ".join(failures))
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(checked.items()))
    print(f"{sum(checked.values())} custom objects valid against their CRDs (strict; unknown fields refused): {kinds}")


def with_meta(schema):
    schema = copy.deepcopy(schema)
    schema.setdefault("properties", {})["metadata"] = OBJECT_META
    return schema


def mutations(doc):
    top = copy.deepcopy(doc)
    top["spec"]["bogusField"] = 1
    yield top, "spec"
    deep = copy.deepcopy(doc)
    node, spot = deep["spec"], "spec"
    for _ in range(6):  # walk down the first dict-valued (or list-of-dict) field
        nxt = next(((k, v) for k, v in node.items() if isinstance(v, dict) and v), None) or next(
            ((k, v[0]) for k, v in node.items() if isinstance(v, list) and v and isinstance(v[0], dict)), None)
        if not nxt:
            break
        spot, node = f"{spot}.{nxt[0]}", nxt[1]
    if spot != "spec":
        node["bogusField"] = 1
        yield deep, spot


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "split":
        split(*sys.argv[2:])
    elif len(sys.argv) >= 4 and sys.argv[1] == "crds":
        validate(sys.argv[2], sys.argv[3:])
    else:
        die(__doc__)


if __name__ == "__main__":
    main()
