#!/usr/bin/env python3
"""Extracts the Flink Kubernetes Operator's option catalog from its released sources.

The operator's jars are not on a registry this project can use, so the catalog is derived from
a release tag of github.com/apache/flink-kubernetes-operator, read with `git show` (no checkout):

* docs/layouts/shortcodes/generated/*.html -- the tables Flink's docs generator wrote from the
  compiled option classes at release time: key, default, type, description (enum constants from
  "Possible values").
* the option classes (*Options.java, *ConfigOptions.java) -- what the tables do not show:
  fallback keys, deprecated keys, @Deprecated, @Documentation.ExcludeFromDocumentation and the
  declaring class. A small evaluator resolves the key expressions they use (string constants,
  `+`, one-argument helpers such as operatorConfig("x") / oldOperatorConfigKey("x")).

Output: one JSON document in the schema of flinkops_config::catalog::Catalog, sorted by key,
one option per line (same layout as CatalogGen.java).

    tools/catalog-gen/operator_catalog.py --git-dir REPO.git --ref release-1.15.0 \
        --out crates/config/catalogs/operator-1.15.json
"""

import argparse
import html
import json
import re
import subprocess
import sys

DOCS_DIR = "docs/layouts/shortcodes/generated/"
OPTION_FILE = re.compile(r"(^|/)src/main/java/.*(Options|ConfigOptions)\.java$")


def git(git_dir, *args):
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args], check=True, capture_output=True, text=True
    ).stdout


# ------------------------------------------------------------------ HTML tables

ROW = re.compile(r"<tr>\s*<td><h5>(.*?)</h5></td>\s*<td[^>]*>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*</tr>", re.S)


def plain(fragment):
    """The docs' HTML description as plain text (the same conventions as CatalogGen)."""
    s = fragment
    s = re.sub(r'<span markdown="span">`(.*?)`</span>', r"`\1`", s, flags=re.S)
    s = re.sub(r'<code[^>]*>(.*?)</code>', r"`\1`", s, flags=re.S)
    s = re.sub(r'<a href="([^"]*)">(.*?)</a>', lambda m: m.group(2) if m.group(2) == m.group(1) else f"{m.group(2)} ({m.group(1)})", s, flags=re.S)
    s = re.sub(r"<br\s*/?>", "\n", s)
    s = re.sub(r"<li>", "\n- ", s)
    s = re.sub(r"</ul>", "\n", s)
    s = re.sub(r"<[^>]+>", "", s)
    return html.unescape(s).strip()


def enum_values(desc_html):
    m = re.search(r"Possible values:<ul>(.*?)</ul>", desc_html, re.S)
    if not m:
        return []
    return [html.unescape(v) for v in re.findall(r'<li>"([^"]*)"', m.group(1))]


def type_json(type_cell, desc_html):
    t = plain(type_cell)
    simple = {
        "Boolean": "boolean", "Integer": "integer", "Long": "long", "Float": "float",
        "Double": "double", "String": "string", "Duration": "duration",
        "MemorySize": "memory_size", "Map": "map",
    }
    if t in simple:
        return {"kind": simple[t]}
    if t == "Enum":
        return {"kind": "enum", "values": enum_values(desc_html)}
    m = re.fullmatch(r"List<(\w+)>", t)
    if m:
        inner = type_json(m.group(1), desc_html)
        return {"kind": "list", "element": inner}
    return {"kind": "other", "class": t}


def default_value(cell, ty):
    d = html.unescape(cell).strip()
    if d == "(none)":
        return None
    if ty["kind"] == "string" and len(d) >= 2 and d[0] == '"' and d[-1] == '"':
        return d[1:-1]
    return d


def parse_tables(git_dir, ref):
    rows = {}
    for path in sorted(git(git_dir, "ls-tree", "--name-only", ref, DOCS_DIR).split()):
        if not path.endswith(".html"):
            continue
        for key, default, ty, desc in ROW.findall(git(git_dir, "show", f"{ref}:{path}")):
            key = html.unescape(key)
            t = type_json(ty, desc)
            rows[key] = {
                "type": t,
                "default": default_value(default, t),
                "description": plain(re.sub(r"<br /><br />Possible values:<ul>.*?</ul>", "", desc, flags=re.S)
                                     if t["kind"] == "enum" else desc),
            }
    return rows


# ------------------------------------------------------------------ Java sources

STRING_CONST = re.compile(r"static\s+final\s+String\s+(\w+)\s*=\s*(.*?);", re.S)
HELPER = re.compile(r"static\s+(?:ConfigOptions\.OptionBuilder|String)\s+(\w+)\s*\(\s*String\s+(\w+)\s*\)\s*\{\s*return\s+(.*?);\s*\}", re.S)
FIELD = re.compile(r"((?:@[\w.]+(?:\([^)]*\))?\s*)*)public\s+static\s+final\s+ConfigOption<.*?>\s+(\w+)\s*=\s*", re.S)


def statement_end(src, i):
    """Index of the `;` that ends the expression starting at i (skips strings and brackets)."""
    depth = 0
    while i < len(src):
        c = src[i]
        if c == '"':
            i += 1
            while src[i] != '"':
                i += 2 if src[i] == "\\" else 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ";" and depth == 0:
            return i
        i += 1
    raise ValueError("unterminated statement")


def split_top(expr, sep):
    parts, depth, cur, i = [], 0, "", 0
    while i < len(expr):
        c = expr[i]
        if c == '"':
            j = i + 1
            while expr[j] != '"':
                j += 2 if expr[j] == "\\" else 1
            cur += expr[i:j + 1]
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts]


class Evaluator:
    """String expressions of the option classes: literals, constants, `+`, one-arg helpers."""

    def __init__(self, parent=None):
        self.parent = parent
        self.consts = {}
        self.helpers = {}
        self.option_keys = {}  # field name -> key, for `FIELD.key()`

    def _lookup(self, table, name):
        ev = self
        while ev is not None:
            if name in getattr(ev, table):
                return getattr(ev, table)[name]
            ev = ev.parent
        return None

    def learn(self, src):
        for name, param, body in HELPER.findall(src):
            self.helpers[name] = (param, body)
        # Constants may refer to each other: resolve until nothing changes.
        pending = dict(STRING_CONST.findall(src))
        for _ in range(5):
            for name, expr in list(pending.items()):
                try:
                    self.consts[name] = self.eval(expr)
                    del pending[name]
                except ValueError:
                    pass

    def eval(self, expr, env=None):
        env = env or {}
        out = ""
        for part in split_top(expr.strip(), "+"):
            if part.startswith('"'):
                out += json.loads(part)
                continue
            m = re.fullmatch(r"(\w+)\.key\(\s*\)", part)
            if m and self._lookup("option_keys", m.group(1)) is not None:
                out += self._lookup("option_keys", m.group(1))
                continue
            m = re.fullmatch(r"(?:[\w.]+\.)?(\w+)\s*\((.*)\)", part, re.S)
            if m and m.group(1) == "key":
                out += self.eval(m.group(2), env)
                continue
            if m and self._lookup("helpers", m.group(1)) is not None:
                param, body = self._lookup("helpers", m.group(1))
                out += self.eval(body, {**env, param: self.eval(m.group(2), env)})
                continue
            name = part.split(".")[-1]
            if name in env:
                out += env[name]
            elif self._lookup("consts", name) is not None:
                out += self._lookup("consts", name)
            else:
                raise ValueError(f"cannot evaluate {part!r}")
        return out


def duration_literal(expr):
    """`Duration.ofMinutes(10)` in Flink's TimeUtils.formatWithHighestUnit form (`10 min`)."""
    m = re.fullmatch(r"\s*Duration\.of(Days|Hours|Minutes|Seconds|Millis)\((\d+)L?\)\s*", expr)
    if not m:
        return None
    ms = int(m.group(2)) * {"Days": 86400000, "Hours": 3600000, "Minutes": 60000, "Seconds": 1000, "Millis": 1}[m.group(1)]
    for unit, size in (("d", 86400000), ("h", 3600000), ("min", 60000), ("s", 1000), ("ms", 1)):
        if ms % size == 0 and (ms > 0 or unit == "ms"):
            return f"{ms // size} {unit}"
    return None


BUILDER_TYPES = {
    "booleanType": "boolean", "intType": "integer", "longType": "long", "floatType": "float",
    "doubleType": "double", "stringType": "string", "durationType": "duration",
    "memoryType": "memory_size", "mapType": "map",
}


def parse_sources(git_dir, ref):
    files = [p for p in git(git_dir, "ls-tree", "-r", "--name-only", ref).split() if OPTION_FILE.search(p)]
    sources = {p: git(git_dir, "show", f"{ref}:{p}") for p in files}
    # Constants and helpers may be imported from another file (static imports): a file sees its
    # own first, then every file's.
    shared = Evaluator()
    for _ in range(2):
        for src in sources.values():
            shared.learn(src)
    options = {}
    for path, src in sorted(sources.items()):
        if "ConfigOption<" not in src:
            continue
        ev = Evaluator(shared)
        ev.learn(src)
        package = re.search(r"^package\s+([\w.]+);", src, re.M).group(1)
        cls = package + "." + path.rsplit("/", 1)[1][:-5]
        for m in FIELD.finditer(src):
            annotations = m.group(1)
            end = statement_end(src, m.end())
            expr = src[m.end():end]
            calls = split_top(expr, ".")
            # calls: [head, method(args), ...]; the head may be `ConfigOptions` + `key(...)`.
            head = calls.pop(0)
            if head == "ConfigOptions":
                head = calls.pop(0)
            key = ev.eval(head)
            ev.option_keys[m.group(2)] = key
            info = {"fallback_keys": [], "deprecated_keys": [], "type": None, "list": False,
                    "deprecated": "@Deprecated" in annotations,
                    "hidden": "ExcludeFromDocumentation" in annotations,
                    "declared_in": cls}
            for call in calls:
                cm = re.fullmatch(r"(\w+)\s*\((.*)\)", call, re.S)
                if not cm:
                    continue
                name, args = cm.groups()
                if name in ("withFallbackKeys", "withDeprecatedKeys"):
                    keys = [ev.eval(a) for a in split_top(args, ",")]
                    info["fallback_keys" if name == "withFallbackKeys" else "deprecated_keys"] += keys
                elif name in BUILDER_TYPES:
                    info["type"] = {"kind": BUILDER_TYPES[name]}
                elif name == "enumType":
                    info["type"] = {"kind": "enum", "values": []}  # constants: only in the docs table
                elif name == "asList":
                    info["list"] = True
                elif name == "withDescription":
                    try:
                        info["description"] = ev.eval(args)
                    except ValueError:
                        pass  # a Description builder: only the docs table has it
                elif name == "defaultValue" and duration_literal(args):
                    info["default"] = duration_literal(args)
                elif name == "defaultValue" and re.fullmatch(r'-?[\d.]+[LlFfDd]?|true|false|"[^"]*"', args.strip()):
                    lit = args.strip()
                    info["default"] = json.loads(lit) if lit.startswith('"') else lit.rstrip("LlFfDd")
            if info["list"] and info["type"]:
                info["type"] = {"kind": "list", "element": info["type"]}
            options[key] = info
    return options


# ------------------------------------------------------------------ merge and write

def option_json(key, row, src):
    o = {"key": key, "type": row["type"] if row else (src or {}).get("type") or {"kind": "string"},
         "default": row["default"] if row else (src or {}).get("default")}
    if src and src["fallback_keys"]:
        o["fallback_keys"] = src["fallback_keys"]
    if src and src["deprecated_keys"]:
        o["deprecated_keys"] = src["deprecated_keys"]
    o["deprecated"] = bool(src and src["deprecated"])
    if src and src["hidden"]:
        o["hidden"] = True
    o["description"] = row["description"] if row else (src or {}).get("description", "")
    o["declared_in"] = src["declared_in"] if src else ""
    return json.dumps(o, ensure_ascii=False, separators=(",", ":"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--git-dir", required=True)
    ap.add_argument("--ref", default="release-1.15.0")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    commit = git(args.git_dir, "rev-parse", args.ref + "^{commit}").strip()
    version = args.ref.removeprefix("release-")
    rows = parse_tables(args.git_dir, args.ref)
    sources = parse_sources(args.git_dir, args.ref)

    options, families = [], {}
    for key in sorted(set(rows) | set(sources)):
        row, src = rows.get(key), sources.get(key)
        if "<" in key:
            # kubernetes.operator.plugins.listeners.<listener-name>.class
            lt, gt = key.index("<"), key.index(">")
            prefix, segment, rel = key[:lt], key[lt + 1:gt], key[gt + 1:].lstrip(".")
            fam = families.setdefault(prefix, {"prefix": prefix, "segment": segment, "options": []})
            fam["options"].append(option_json(rel, row, src))
            continue
        options.append(option_json(key, row, src))

    # Pass-through prefixes of the operator's default configuration (FlinkConfigManager).
    consts = Evaluator()
    consts.learn(git(args.git_dir, "show", f"{args.ref}:flink-kubernetes-operator/src/main/java/org/apache/flink/kubernetes/operator/config/KubernetesOperatorConfigOptions.java"))
    plain_families = [
        (consts.consts["VERSION_CONF_PREFIX"], "v", "Flink configuration defaults for deployments of one Flink version: "
         "kubernetes.operator.default-configuration.flink-version.<v1_20>[+].<flink-key>."),
        (consts.consts["NAMESPACE_CONF_PREFIX"], "namespace", "Flink configuration defaults for deployments in one namespace: "
         "kubernetes.operator.default-configuration.namespace.<namespace>.<flink-key>."),
    ]
    lines = []
    for prefix, segment, desc in plain_families:
        lines.append(json.dumps({"prefix": prefix, "description": desc, "name_segment": segment,
                                 "sources": [f"KubernetesOperatorConfigOptions ({commit})"],
                                 "options": [{"key": "<flink-key>", "type": {"kind": "string"}, "default": None,
                                              "deprecated": False, "description": "Any Flink configuration key.",
                                              "declared_in": "org.apache.flink.kubernetes.operator.config.FlinkConfigManager"}]},
                                ensure_ascii=False, separators=(",", ":")))
    for prefix, fam in sorted(families.items()):
        head = json.dumps({"prefix": prefix, "description": f"Options of each `<{fam['segment']}>` under `{prefix}`.",
                           "name_segment": fam["segment"], "sources": [f"{DOCS_DIR} ({commit})"]},
                          ensure_ascii=False, separators=(",", ":"))[:-1]
        lines.append(head + ',"options":[\n' + ",\n".join(fam["options"]) + "]}")
    lines.sort()

    out = ('{"version":' + json.dumps("operator-" + version) + ',\n"options":[\n' + ",\n".join(options)
           + '\n],\n"prefixes":[\n' + ",\n".join(lines) + "\n]}\n")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(out)
    only_docs = sorted(set(rows) - set(sources))
    only_src = sorted(set(sources) - set(rows))
    print(f"operator {version} ({commit}): {len(options)} keys, {len(families)} templated families; "
          f"{len(only_docs)} keys only in docs tables, {len(only_src)} only in sources: {only_src}", file=sys.stderr)
    if only_docs:
        print(f"  only in docs: {only_docs}", file=sys.stderr)


if __name__ == "__main__":
    main()
