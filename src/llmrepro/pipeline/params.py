"""params.yaml: typed sections, scale overlays, and the declared-params view.

Each top-level section of params.yaml (`common` and one per paper id) is
validated by a pydantic model that lives next to the code that reads it and
registers itself with `@section("<id>")`. Unknown keys and wrong types fail
before any compute with a message that names the key, the value and what is
allowed.

A stage never sees the whole file: `DeclaredParams` hands out only the keys the
stage declares, and raises on any other read. "Declared" (what DVC and
Snakemake rerun on) and "used" cannot drift apart.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from llmrepro import io

if TYPE_CHECKING:
    from llmrepro.pipeline.stage import Resources

SCALES = ("smoke", "mini", "full")
MINI_SOURCE = "configs/mini.yaml"
PARAMS_FILE = "params.yaml"


class ParamsError(ValueError):
    """params.yaml (or an overlay) is invalid; the message says where and why."""


class Section(BaseModel):
    """Base of every params section: closed (no unknown keys), strictly typed."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ResourceSpec(Section):
    threads: int | None = None
    mem_mb: int | None = None
    gpu: int | None = None
    runtime: int | None = None  # minutes

    def as_override(self) -> dict[str, int]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class PaperSection(Section):
    """A paper's section. `resources` maps a step name to a SLURM override
    (used at full scale); stages never declare it, so it never reruns them."""

    resources: dict[str, ResourceSpec] = {}


_SCHEMAS: dict[str, type[Section]] = {}


def section(name: str):
    """Register the schema of params section `name`; a name is taken once."""

    def wrap(cls: type[Section]) -> type[Section]:
        if name in _SCHEMAS and _SCHEMAS[name] is not cls:
            raise ValueError(f"params section {name!r} already has a schema: {_SCHEMAS[name].__qualname__}")
        _SCHEMAS[name] = cls
        return cls

    return wrap


def schemas() -> dict[str, type[Section]]:
    """Every section schema; importing each package's `config` registers it."""
    from llmrepro import SECTIONS

    for name in SECTIONS:
        try:
            importlib.import_module(f"llmrepro.{name}.config")
        except ModuleNotFoundError as e:
            if e.name not in (f"llmrepro.{name}", f"llmrepro.{name}.config"):
                raise
    return dict(_SCHEMAS)


# ---------------------------------------------------------------- validation

def _type_word(v: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a mapping", type(None): "null"}.get(type(v), type(v).__name__)


def _loc(prefix: str, loc: Iterable[Any]) -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "tagged-union", "literal[", "union[")) or part in (
                "int", "float", "str", "bool", "list", "dict", "none"):
            continue  # pydantic's union-branch markers are noise to a user
        else:
            out += f".{part}"
    return out


def _allowed_keys(schema: type[BaseModel], loc: tuple) -> list[str]:
    model: Any = schema
    for part in loc[:-1]:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        if model is None:
            return []
    return sorted(getattr(model, "model_fields", {}))


def _explain(name: str, schema: type[BaseModel], err: ValidationError, source: str) -> str:
    lines = []
    seen = set()
    for e in err.errors():
        where = _loc(name, e["loc"])
        if where in seen:
            continue
        seen.add(where)
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(schema, e["loc"])
            lines.append(f"{source}: {where}: unknown key"
                         + (f"; allowed here: {', '.join(allowed)}" if allowed else ""))
        elif e["type"] == "missing":
            lines.append(f"{source}: {where}: required key is missing")
        else:
            got = e.get("input")
            lines.append(f"{source}: {where} = {got!r} ({_type_word(got)}): {e['msg'].lower()}")
    return "\n".join(lines)


OPTIONAL_KEYS = ("resources",)  # the only keys a section may leave out


def unset_keys(model: BaseModel, prefix: str) -> list[str]:
    """Keys the schema filled from a default because the file lacks them. A default would run one
    scale silently with another scale's value, so every key must be written out."""
    out = []
    for name, f in type(model).model_fields.items():
        if (name in OPTIONAL_KEYS or (f.default is None and not f.is_required())
                or (get_origin(f.annotation) is Literal and len(get_args(f.annotation)) == 1)):
            continue  # "absent" (a None default) and one-value tags (a source's `kind`) hide no other value
        if name not in model.model_fields_set:
            out.append(f"{prefix}.{name}")
        elif isinstance(v := getattr(model, name), BaseModel):
            out += unset_keys(v, f"{prefix}.{name}")
    return out


def validate(raw: dict[str, Any], source: str = PARAMS_FILE) -> dict[str, Section]:
    """Validate every section of a params mapping; raise ParamsError listing all problems."""
    if not isinstance(raw, dict):
        raise ParamsError(f"{source}: expected a mapping of sections, got {_type_word(raw)}")
    known = schemas()
    problems, out = [], {}
    for name in raw:
        if name not in known:
            problems.append(f"{source}: {name}: unknown section; known sections: {', '.join(sorted(known))}")
    for name, schema in known.items():
        if name not in raw:
            problems.append(f"{source}: {name}: section is missing")
            continue
        try:
            out[name] = schema.model_validate(raw[name])
        except ValidationError as e:
            problems.append(_explain(name, schema, e, source))
            continue
        scale = (raw.get("common") or {}).get("scale", "?") if isinstance(raw.get("common"), dict) else "?"
        problems += [f"{source}: {k}: required key is missing (scale {scale}); configs/mini.yaml has every key"
                     for k in unset_keys(out[name], name)]
    if problems:
        raise ParamsError("invalid params:\n" + "\n".join(problems))
    return out


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = io.load_yaml(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found") from None
    except UnicodeDecodeError as e:
        raise ParamsError(f"{path}: not UTF-8 text: byte 0x{e.object[e.start]:02x} at offset {e.start}") from None
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not valid YAML: {e}") from None
    return data or {}


def load(root: Path) -> tuple[dict[str, Any], dict[str, Section]]:
    """Read and validate `params.yaml`; return the raw mapping and the typed sections."""
    raw = read_yaml(root / PARAMS_FILE)
    return raw, validate(raw, PARAMS_FILE)


def lookup(raw: dict[str, Any], key: str) -> Any:
    node: Any = raw
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


def has_key(raw: dict[str, Any], key: str) -> bool:
    try:
        lookup(raw, key)
        return True
    except KeyError:
        return False


# ---------------------------------------------------------------- scales

def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Overlay onto base: mappings merge key by key, anything else is replaced.
    A mistyped overlay key is caught by the schema, not here."""
    out = copy.deepcopy(base)
    for k, v in overlay.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def render_scale(root: Path, scale: str) -> dict[str, Any]:
    """The effective params for `scale`: configs/mini.yaml plus configs/<scale>.yaml."""
    if scale not in SCALES:
        raise ParamsError(f"scale {scale!r} is not one of {', '.join(SCALES)}")
    base = read_yaml(root / MINI_SOURCE)
    if scale != "mini":
        base = deep_merge(base, read_yaml(root / "configs" / f"{scale}.yaml"))
    base["common"]["scale"] = scale
    validate(base, f"configs/{scale}.yaml")
    return base


HEADER = ("# Effective params, written by `llmrepro scale {scale}` from configs/mini.yaml"
          "{overlay}.\n# Edit configs/*.yaml, or edit this file for a one-off run (`llmrepro scale` then asks for"
          " --force).\n")


def dump_params(data: dict[str, Any], scale: str) -> str:
    overlay = "" if scale == "mini" else f" + configs/{scale}.yaml"
    return HEADER.format(scale=scale, overlay=overlay) + yaml.safe_dump(data, sort_keys=False, width=100)


def hand_edited(root: Path) -> bool:
    """params.yaml differs from what every scale renders: someone edited it."""
    path = root / PARAMS_FILE
    if not path.exists():
        return False
    try:
        data = read_yaml(path)
    except ParamsError:
        return True
    for s in SCALES:
        try:
            if render_scale(root, s) == data:
                return False
        except ParamsError:
            continue
    return True


def write_scale(root: Path, scale: str, force: bool = False) -> Path:
    """Write the effective params.yaml for `scale`. A hand-edited params.yaml is kept unless
    `force`; then it is backed up to params.yaml.bak first."""
    text = dump_params(render_scale(root, scale), scale)
    path = root / PARAMS_FILE
    if hand_edited(root):
        if not force:
            raise ParamsError(f"{PARAMS_FILE} has hand edits (it matches no rendered scale); move them into "
                              f"configs/*.yaml, or rerun with --force (the file is then kept as {PARAMS_FILE}.bak)")
        path.with_suffix(".yaml.bak").write_bytes(path.read_bytes())
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def resource_overrides(sections: dict[str, Section], paper: str, step: str, base: Resources) -> Resources:
    sec = sections.get(paper)
    spec = getattr(sec, "resources", {}).get(step) if sec is not None else None
    return base.merged(spec.as_override() if spec else None)


# ---------------------------------------------------------------- the stage's view

class UndeclaredParamError(KeyError):
    def __str__(self) -> str:
        return self.args[0]


class DeclaredParams:
    """Attribute access to the validated params, limited to the declared keys.

    Declared `attngrad.runtime`: `p.attngrad.runtime.ns` works and returns the
    typed value; `p.attngrad.threshold` raises UndeclaredParamError.
    """

    def __init__(self, typed: Any, declared: Iterable[str], stage: str, prefix: str = ""):
        self._typed = typed
        self._declared = tuple(declared)
        self._stage = stage
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        path = f"{self._prefix}.{name}" if self._prefix else name
        value = (self._typed.get(name, _MISSING) if isinstance(self._typed, dict)
                 else getattr(self._typed, name, _MISSING))
        if value is _MISSING:
            raise AttributeError(f"params have no key {path!r}")
        if any(path == d or path.startswith(d + ".") for d in self._declared):
            return value
        if any(d.startswith(path + ".") for d in self._declared):
            return DeclaredParams(value, self._declared, self._stage, path)
        raise UndeclaredParamError(
            f"stage {self._stage!r} read param {path!r}, which it does not declare; "
            f"declared: {', '.join(self._declared) or '(none)'}. Add it to the stage's params=[...].")

    def get(self, dotted: str) -> Any:
        node: Any = self
        for part in dotted.split("."):
            node = getattr(node, part)
        return node


_MISSING = object()
