"""Schema registry: record types and relations declared as YAML, one file per type.

Each file in ``amane/schema/`` declares one type (Person, Vehicle...) or one relation
(Involvement, Ownership...: types with an ``edge:`` block whose two ends are entity
references). The loader is strict: a typo in a schema file is a :class:`SchemaError`
at start-up, never a surprise at request time. Validation of user data collects every
broken rule before raising :class:`ValidationFailed`, so a form shows all its errors
at once.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from amane.model.errors import FieldError, InvalidValue, SchemaError, ValidationFailed
from amane.model.types import TYPES, ValueType

__all__ = [
    "LANGUAGES",
    "Edge",
    "EntitySchema",
    "Property",
    "Registry",
    "Vocabulary",
    "load_forms",
    "load_registry",
    "load_vocabulary",
]

#: Every label exists in these languages (Arabic first).
LANGUAGES: tuple[str, ...] = ("ar", "fr", "en")

_SCHEMA_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_PROP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CODE = re.compile(r"^[A-Za-z0-9_]+$")
_KEY_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_EXTRA_LANG = re.compile(r"^[a-z]{2,3}$")

_TOP_KEYS = {
    "name",
    "label",
    "plural",
    "description",
    "caption",
    "required_any",
    "order",
    "properties",
    "edge",
}
_PROP_KEYS = {
    "type",
    "label",
    "description",
    "required",
    "multiple",
    "past_only",
    "range",
    "values",
    "values_from",
    "key_kind",
    "max_length",
    "min",
    "max",
}
_EDGE_KEYS = {"source", "target", "directed", "label"}
_TEXT_TYPES = {"string", "text", "name", "identifier"}
_ORDERED_TYPES = {"date", "datetime", "integer", "number"}


def _label(labels: Mapping[str, str], lang: str) -> str:
    return labels.get(lang) or labels.get("en") or next(iter(labels.values()), "")


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


#: How :meth:`EntitySchema.validate` handles one property: its declaration index, the property,
#: its type's ``clean`` and ``is_empty``, and whether it is ``multiple``.
_FieldPlan = tuple[int, "Property", Callable[..., Any], Callable[[Any], bool], bool]


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, eq=False)
class Property:
    """One typed field of a record type."""

    name: str
    type: ValueType
    label: dict[str, str]
    required: bool = False
    multiple: bool = False
    past_only: bool = False
    range: tuple[str, ...] = ()
    values: dict[str, dict[str, str]] | None = None
    description: str = ""
    #: Kind of key this property feeds into the key index (defaults to its type's).
    key_kind: str | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    #: Name of the data vocabulary the enum values came from (``offences``), if any.
    values_from: str | None = None

    def label_for(self, lang: str) -> str:
        return _label(self.label, lang)

    @property
    def input_kind(self) -> str:
        return self.type.input_kind

    def options(self) -> list[tuple[str, dict[str, str]]] | None:
        """Choices for a select input (enum values, regions...), or ``None``."""
        return self.type.options(self)

    def clean(self, raw: Any) -> Any:
        """Clean one raw value: ``None`` if empty; for a ``multiple`` property a list
        (a single value is wrapped), de-duplicated, empty items dropped.
        Raises :class:`InvalidValue` on the first bad value."""
        value, errors = self.clean_collect(raw)
        if errors:
            raise errors[0][1]
        return value

    def clean_collect(self, raw: Any) -> tuple[Any, list[tuple[str, InvalidValue]]]:
        """Like :meth:`clean` but returns ``(value, [(path suffix, error), ...])``;
        the suffix is ``""`` or ``".<item index>"`` for multiple properties."""
        if not self.multiple:
            if self.type.is_empty(raw):
                return None, []
            try:
                return self.type.clean(raw, prop=self), []
            except InvalidValue as exc:
                return None, [("", exc)]
        items = list(raw) if isinstance(raw, list | tuple) else [raw]
        out: list[Any] = []
        seen: set[str] = set()
        errors: list[tuple[str, InvalidValue]] = []
        for index, item in enumerate(items):
            if self.type.is_empty(item):
                continue
            try:
                value = self.type.clean(item, prop=self)
            except InvalidValue as exc:
                errors.append((f".{index}", exc))
                continue
            marker = json.dumps(value, sort_keys=True, ensure_ascii=False)
            if marker not in seen:
                seen.add(marker)
                out.append(value)
        return out, errors

    def display(self, value: Any, lang: str = "en") -> str:
        """A short human rendering of a cleaned value (enum codes become labels)."""
        if _is_empty(value):
            return ""
        if isinstance(value, list):
            return ", ".join(self.display(v, lang) for v in value if not _is_empty(v))
        if self.values is not None and isinstance(value, str) and value in self.values:
            return _label(self.values[value], lang)
        if isinstance(value, dict) and "lat" in value and "lon" in value:
            return f"{value['lat']}, {value['lon']}"
        if isinstance(value, bool):
            return {"ar": "نعم", "fr": "Oui"}.get(lang, "Yes") if value else {"ar": "لا", "fr": "Non"}.get(lang, "No")
        return str(value)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (for the API and the web forms)."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type.name,
            "label": dict(self.label),
            "required": self.required,
            "multiple": self.multiple,
            "input": self.input_kind,
        }
        if self.description:
            out["description"] = self.description
        if self.past_only:
            out["past_only"] = True
        if self.range:
            out["range"] = list(self.range)
        if self.values is not None:
            out["values"] = {code: dict(labels) for code, labels in self.values.items()}
        if self.values_from:
            out["values_from"] = self.values_from
        if self.key_kind:
            out["key_kind"] = self.key_kind
        for key, val in (("max_length", self.max_length), ("min", self.minimum), ("max", self.maximum)):
            if val is not None:
                out[key] = val
        return out


@dataclass(frozen=True)
class Edge:
    """How a relation links two records: the names of its two entity-reference properties."""

    source: str
    target: str
    directed: bool
    label: dict[str, str]

    def label_for(self, lang: str) -> str:
        return _label(self.label, lang)


@dataclass(frozen=True, eq=False)
class EntitySchema:
    """A record type (Person, Vehicle...) or, when it has an :class:`Edge`, a relation."""

    name: str
    label: dict[str, str]
    plural: dict[str, str]
    description: str
    properties: dict[str, Property]
    #: Caption candidates in order; each is a group of properties joined by a space.
    caption_props: tuple[tuple[str, ...], ...] = ()
    #: Groups of properties of which at least one must be filled in.
    required_any: tuple[tuple[str, ...], ...] = ()
    edge: Edge | None = None
    #: Pairs (earlier, later): when both are set, the first may not come after the second.
    order: tuple[tuple[str, str], ...] = field(default=())

    @property
    def is_edge(self) -> bool:
        return self.edge is not None

    def label_for(self, lang: str) -> str:
        return _label(self.label, lang)

    def plural_for(self, lang: str) -> str:
        return _label(self.plural, lang)

    # ----------------------------------------------------------------- validation

    def validate(self, data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Clean ``data`` and return only its non-empty values, in declaration order.

        Every broken rule is collected before :class:`ValidationFailed` is raised; field
        paths are ``data.<property>`` (``data.<property>.<index>`` for an item of a
        multiple property, ``data`` for a rule on the whole record). ``partial=True``
        (a PATCH) skips the required checks.
        """
        if not isinstance(data, Mapping):
            what = self.label_for("en")
            raise ValidationFailed(
                [FieldError("data", "data.type", f"The data of a {what} must be a set of named fields.")]
            )
        plans = self._field_plans
        errors: list[FieldError] = []
        cleaned: dict[str, Any] = {}
        failed: set[str] = set()
        in_order = True  # keys came in declaration order: ``cleaned`` needs no reordering
        last_index = -1
        for key, raw in data.items():
            plan = plans.get(key) if isinstance(key, str) else None
            if plan is None:
                what = self.label_for("en")
                errors.append(FieldError(f"data.{key}", "property.unknown", f"A {what} has no field called “{key}”."))
                continue
            index, prop, clean, is_empty, multiple = plan
            if index < last_index:
                in_order = False
            last_index = index
            if multiple:
                value, problems = prop.clean_collect(raw)
                if problems:
                    for suffix, exc in problems:
                        errors.append(FieldError(f"data.{key}{suffix}", exc.rule, exc.message))
                    failed.add(key)
                    continue
            else:  # Property.clean_collect, inlined: this is the hot path of bulk imports
                if is_empty(raw):
                    continue
                try:
                    value = clean(raw, prop=prop)
                except InvalidValue as exc:
                    errors.append(FieldError(f"data.{key}", exc.rule, exc.message))
                    failed.add(key)
                    continue
            if value.__class__ is str:
                if value:
                    cleaned[key] = value
            elif not _is_empty(value):
                cleaned[key] = value

        if not partial:
            for prop in self._required:
                if prop.name not in cleaned and prop.name not in failed:
                    errors.append(
                        FieldError(f"data.{prop.name}", "property.required", f"{prop.label_for('en')} is required.")
                    )
            for group in self.required_any:
                if not any(name in cleaned or name in failed for name in group):
                    names = ", ".join(self.properties[name].label_for("en") for name in group)
                    errors.append(FieldError("data", "property.required_any", f"Fill in at least one of: {names}."))
        for first, second in self.order:
            if first in cleaned and second in cleaned and cleaned[first] > cleaned[second]:
                errors.append(
                    FieldError(
                        f"data.{second}",
                        "property.order",
                        f"{self.properties[second].label_for('en')} cannot be before "
                        f"{self.properties[first].label_for('en')}.",
                    )
                )
        if errors:
            raise ValidationFailed(errors)
        if in_order:
            return cleaned
        return {name: cleaned[name] for name in self.properties if name in cleaned}

    # Per-schema plans, worked out on first use (an EntitySchema and its properties are frozen).

    @functools.cached_property
    def _field_plans(self) -> dict[str, _FieldPlan]:
        return {
            name: (index, prop, prop.type.clean, prop.type.is_empty, prop.multiple)
            for index, (name, prop) in enumerate(self.properties.items())
        }

    @functools.cached_property
    def _required(self) -> tuple[Property, ...]:
        return tuple(prop for prop in self.properties.values() if prop.required)

    @functools.cached_property
    def _caption_groups(self) -> tuple[tuple[Property, ...], ...]:
        return tuple(tuple(self.properties[name] for name in group) for group in self.caption_props)

    @functools.cached_property
    def _key_plans(self) -> tuple[tuple[str, str, Callable[[Any], list[str]]], ...]:
        """``(property name, key kind, type's keys)`` of the properties that feed the key index."""
        return tuple(
            (prop.name, prop.key_kind, prop.type.keys) for prop in self.properties.values() if prop.key_kind is not None
        )

    @functools.cached_property
    def _reference_names(self) -> tuple[str, ...]:
        return tuple(prop.name for prop in self.properties.values() if prop.type.name == "entity")

    # ----------------------------------------------------------------- reading cleaned data

    def caption(self, data: Mapping[str, Any], lang: str = "en") -> str:
        """The display caption of a record: the first caption group with a value, else the type label."""
        for group in self._caption_groups:
            parts: list[str] = []
            for prop in group:
                value = data.get(prop.name)
                # A plain string displays as itself (Property.display, short-cut).
                part = value if value.__class__ is str and prop.values is None else prop.display(value, lang)
                if part:
                    parts.append(part)
            if parts:
                return " ".join(parts)
        return self.label_for(lang)

    def keys(self, data: Mapping[str, Any]) -> list[tuple[str, str]]:
        """``(key_kind, key)`` pairs for the key index, from cleaned data, de-duplicated."""
        out: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for name, kind, type_keys in self._key_plans:
            value = data.get(name)
            if value is None:
                continue
            for item in value if isinstance(value, list) else (value,):
                if not item and _is_empty(item):  # (every empty value is falsy)
                    continue
                for key in type_keys(item):
                    pair = (kind, key)
                    if pair not in seen:
                        seen.add(pair)
                        out.append(pair)
        return out

    def references(self, data: Mapping[str, Any]) -> list[tuple[str, str]]:
        """``(property, entity id)`` for every entity reference in cleaned data."""
        out: list[tuple[str, str]] = []
        for name in self._reference_names:
            value = data.get(name)
            if _is_empty(value):
                continue
            for item in value if isinstance(value, list) else (value,):
                if isinstance(item, str) and item:
                    out.append((name, item))
        return out

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (for the API and the web forms)."""
        out: dict[str, Any] = {
            "name": self.name,
            "label": dict(self.label),
            "plural": dict(self.plural),
            "description": self.description,
            "caption": [list(g) for g in self.caption_props],
            "required_any": [list(g) for g in self.required_any],
            "properties": [p.as_dict() for p in self.properties.values()],
        }
        if self.order:
            out["order"] = [list(pair) for pair in self.order]
        if self.edge is not None:
            out["edge"] = {
                "source": self.edge.source,
                "target": self.edge.target,
                "directed": self.edge.directed,
                "label": dict(self.edge.label),
            }
        return out

    def __repr__(self) -> str:
        return f"<EntitySchema {self.name}{' (edge)' if self.is_edge else ''}>"


class Registry:
    """All record types and relations, by name."""

    def __init__(self, schemas: Iterable[EntitySchema]) -> None:
        self._schemas: dict[str, EntitySchema] = {s.name: s for s in sorted(schemas, key=lambda s: s.name)}

    def get(self, name: str) -> EntitySchema:
        try:
            return self._schemas[name]
        except (KeyError, TypeError):
            raise ValidationFailed(
                [FieldError("schema", "schema.unknown", f"There is no record type called “{name}”.")]
            ) from None

    def __getitem__(self, name: str) -> EntitySchema:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._schemas

    def __iter__(self) -> Iterator[EntitySchema]:
        return iter(self._schemas.values())

    def __len__(self) -> int:
        return len(self._schemas)

    def names(self) -> list[str]:
        return list(self._schemas)

    def entities(self) -> list[EntitySchema]:
        """Record types (no edge), sorted by name."""
        return [s for s in self._schemas.values() if not s.is_edge]

    def relations(self) -> list[EntitySchema]:
        """Relations (with an edge), sorted by name."""
        return [s for s in self._schemas.values() if s.is_edge]

    def relations_for(self, name: str) -> list[EntitySchema]:
        """Relations one of whose ends may be a record of type ``name``."""
        out = []
        for rel in self.relations():
            assert rel.edge is not None
            ends = rel.properties[rel.edge.source].range + rel.properties[rel.edge.target].range
            if name in ends:
                out.append(rel)
        return out


# --------------------------------------------------------------------------- vocabularies


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """A list of coded values kept in ``amane/data/<name>.yaml`` (the offence taxonomy...)."""

    name: str
    description: str
    values: dict[str, dict[str, str]]
    groups: dict[str, dict[str, str]]
    group_of: dict[str, str]

    def in_group(self, group: str) -> list[str]:
        return [code for code, g in self.group_of.items() if g == group]


# --------------------------------------------------------------------------- loading


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise SchemaError(f"duplicate key {key!r} (line {key_node.start_mark.line + 1})")
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(source: Traversable, where: str) -> Any:
    try:
        return yaml.load(source.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506
    except SchemaError as exc:
        raise SchemaError(f"{where}: {exc}") from None
    except yaml.YAMLError as exc:
        raise SchemaError(f"{where}: not valid YAML: {exc}") from None


def _labels(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise SchemaError(f"{where}: labels must be a mapping with {', '.join(LANGUAGES)}")
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise SchemaError(f"{where}: missing or empty {lang!r} label")
        out[lang] = text.strip()
    for lang, text in value.items():
        if lang in out:
            continue
        if not isinstance(lang, str) or not _EXTRA_LANG.match(lang) or not isinstance(text, str):
            raise SchemaError(f"{where}: unexpected label key {lang!r}")
        out[lang] = text.strip()
    return out


def _check_keys(obj: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(k) for k in obj if k not in allowed)
    if unknown:
        raise SchemaError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _bool(obj: Mapping[str, Any], key: str, where: str, default: bool = False) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        raise SchemaError(f"{where}: {key} must be true or false")
    return value


def _number(obj: Mapping[str, Any], key: str, where: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(f"{where}: {key} must be a number")
    return float(value)


def _name_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SchemaError(f"{where}: expected a name or a non-empty list of names")


def _default_data_dir() -> Traversable:
    return resources.files("amane").joinpath("data")


def _default_schema_dir() -> Traversable:
    return resources.files("amane").joinpath("schema")


def _parse_vocabulary(name: str, raw: Any, where: str) -> Vocabulary:
    if not isinstance(raw, Mapping):
        raise SchemaError(f"{where}: expected a mapping")
    _check_keys(raw, {"description", "groups", "values"}, where)
    groups: dict[str, dict[str, str]] = {}
    raw_groups = raw.get("groups") or {}
    if not isinstance(raw_groups, Mapping):
        raise SchemaError(f"{where}: groups must be a mapping")
    for code, spec in raw_groups.items():
        if not isinstance(code, str) or not _CODE.match(code) or not isinstance(spec, Mapping):
            raise SchemaError(f"{where}: bad group {code!r}")
        _check_keys(spec, {"label", "description"}, f"{where}: group {code}")
        groups[code] = _labels(spec.get("label"), f"{where}: group {code}")
    raw_values = raw.get("values")
    if not isinstance(raw_values, Mapping) or not raw_values:
        raise SchemaError(f"{where}: values must be a non-empty mapping")
    values: dict[str, dict[str, str]] = {}
    group_of: dict[str, str] = {}
    for code, spec in raw_values.items():
        if not isinstance(code, str) or not _CODE.match(code) or not isinstance(spec, Mapping):
            raise SchemaError(f"{where}: bad value {code!r}")
        _check_keys(spec, {"label", "group", "description"}, f"{where}: value {code}")
        values[code] = _labels(spec.get("label"), f"{where}: value {code}")
        group = spec.get("group")
        if groups or group is not None:
            if group not in groups:
                raise SchemaError(f"{where}: value {code} has unknown group {group!r}")
            group_of[code] = str(group)
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise SchemaError(f"{where}: description must be text")
    return Vocabulary(name=name, description=description.strip(), values=values, groups=groups, group_of=group_of)


@functools.lru_cache(maxsize=32)
def _vocabulary_cached(name: str, data_dir: str | None) -> Vocabulary:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise SchemaError(f"bad vocabulary name {name!r}")
    base: Traversable = Path(data_dir) if data_dir is not None else _default_data_dir()
    source = base.joinpath(f"{name}.yaml")
    if not source.is_file():
        raise SchemaError(f"unknown vocabulary {name!r} (no {name}.yaml in the data directory)")
    return _parse_vocabulary(name, _read_yaml(source, f"{name}.yaml"), f"{name}.yaml")


def load_vocabulary(name: str, *, data_path: Path | None = None) -> Vocabulary:
    """Load ``<name>.yaml`` from the packaged data directory (or ``data_path``)."""
    return _vocabulary_cached(name, str(data_path) if data_path is not None else None)


def _parse_property(name: Any, raw: Any, where: str, data_path: Path | None) -> Property:
    where = f"{where}: property {name}"
    if not isinstance(name, str) or not _PROP_NAME.match(name):
        raise SchemaError(f"{where}: property names are lower_snake_case")
    if not isinstance(raw, Mapping):
        raise SchemaError(f"{where}: expected a mapping")
    _check_keys(raw, _PROP_KEYS, where)
    type_name = raw.get("type")
    if type_name not in TYPES:
        raise SchemaError(f"{where}: unknown type {type_name!r}; known: {', '.join(sorted(TYPES))}")
    vtype = TYPES[type_name]
    label = _labels(raw.get("label"), where)
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise SchemaError(f"{where}: description must be text")
    multiple = _bool(raw, "multiple", where)
    past_only = _bool(raw, "past_only", where)
    if past_only and type_name not in {"date", "datetime"}:
        raise SchemaError(f"{where}: past_only applies to date and datetime only")
    if multiple and type_name == "coordinates":
        raise SchemaError(f"{where}: coordinates cannot be multiple")

    range_: tuple[str, ...] = ()
    if type_name == "entity":
        if "range" not in raw:
            raise SchemaError(f"{where}: an entity property needs a range (the record types it points to)")
        range_ = _name_list(raw["range"], f"{where}: range")
    elif "range" in raw:
        raise SchemaError(f"{where}: range applies to entity properties only")

    values: dict[str, dict[str, str]] | None = None
    values_from = raw.get("values_from")
    if type_name == "enum":
        if ("values" in raw) == (values_from is not None):
            raise SchemaError(f"{where}: an enum needs exactly one of values or values_from")
        if values_from is not None:
            if not isinstance(values_from, str):
                raise SchemaError(f"{where}: values_from must be a vocabulary name")
            try:
                values = dict(load_vocabulary(values_from, data_path=data_path).values)
            except SchemaError as exc:
                raise SchemaError(f"{where}: {exc}") from None
        else:
            raw_values = raw["values"]
            if not isinstance(raw_values, Mapping) or not raw_values:
                raise SchemaError(f"{where}: values must be a non-empty mapping of code to labels")
            values = {}
            for code, labels in raw_values.items():
                if not isinstance(code, str) or not _CODE.match(code):
                    raise SchemaError(f"{where}: bad value code {code!r} (quote codes such as 'yes' or 'no')")
                values[code] = _labels(labels, f"{where}: value {code}")
    elif "values" in raw or values_from is not None:
        raise SchemaError(f"{where}: values apply to enum properties only")

    key_kind = vtype.key_kind
    if "key_kind" in raw:
        key_kind = raw["key_kind"]
        if key_kind is not None and (not isinstance(key_kind, str) or not _KEY_KIND.match(key_kind)):
            raise SchemaError(f"{where}: key_kind must be a lower_snake_case word or null")

    max_length = raw.get("max_length")
    if max_length is not None:
        if type_name not in _TEXT_TYPES:
            raise SchemaError(f"{where}: max_length applies to text types only")
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
            raise SchemaError(f"{where}: max_length must be a positive whole number")
    minimum, maximum = _number(raw, "min", where), _number(raw, "max", where)
    if (minimum is not None or maximum is not None) and type_name not in {"number", "integer"}:
        raise SchemaError(f"{where}: min and max apply to number and integer only")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise SchemaError(f"{where}: min is greater than max")

    return Property(
        name=name,
        type=vtype,
        label=label,
        required=_bool(raw, "required", where),
        multiple=multiple,
        past_only=past_only,
        range=range_,
        values=values,
        description=description.strip(),
        key_kind=key_kind,
        max_length=max_length,
        minimum=minimum,
        maximum=maximum,
        values_from=values_from,
    )


def _parse_schema(raw: Any, where: str, data_path: Path | None) -> EntitySchema:
    if not isinstance(raw, Mapping):
        raise SchemaError(f"{where}: expected a mapping")
    _check_keys(raw, _TOP_KEYS, where)
    name = raw.get("name")
    if not isinstance(name, str) or not _SCHEMA_NAME.match(name):
        raise SchemaError(f"{where}: name must be CamelCase")
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        raise SchemaError(f"{where}: a description saying why the type exists is required")
    raw_props = raw.get("properties")
    if not isinstance(raw_props, Mapping) or not raw_props:
        raise SchemaError(f"{where}: properties must be a non-empty mapping")
    properties = {str(k): _parse_property(k, v, where, data_path) for k, v in raw_props.items()}

    def known(names: tuple[str, ...], what: str) -> tuple[str, ...]:
        for n in names:
            if n not in properties:
                raise SchemaError(f"{where}: {what} names unknown property {n!r}")
        return names

    raw_caption = raw.get("caption", [])
    if not isinstance(raw_caption, list):
        raise SchemaError(f"{where}: caption must be a list")
    caption = tuple(known(_name_list(item, f"{where}: caption"), "caption") for item in raw_caption)

    raw_any = raw.get("required_any", [])
    if not isinstance(raw_any, list) or not all(isinstance(g, list) for g in raw_any):
        raise SchemaError(f"{where}: required_any must be a list of lists")
    required_any = tuple(known(_name_list(g, f"{where}: required_any"), "required_any") for g in raw_any)

    raw_order = raw.get("order", [])
    if not isinstance(raw_order, list):
        raise SchemaError(f"{where}: order must be a list of [earlier, later] pairs")
    order: list[tuple[str, str]] = []
    for pair in raw_order:
        names = known(_name_list(pair, f"{where}: order"), "order")
        if len(names) != 2:
            raise SchemaError(f"{where}: order takes pairs [earlier, later]")
        first, second = properties[names[0]], properties[names[1]]
        if first.type is not second.type or first.type.name not in _ORDERED_TYPES or first.multiple:
            raise SchemaError(f"{where}: order pairs must be two single dates, date-times or numbers")
        order.append((names[0], names[1]))

    edge: Edge | None = None
    if "edge" in raw:
        raw_edge = raw["edge"]
        ewhere = f"{where}: edge"
        if not isinstance(raw_edge, Mapping):
            raise SchemaError(f"{ewhere}: expected a mapping")
        _check_keys(raw_edge, _EDGE_KEYS, ewhere)
        ends = []
        for end in ("source", "target"):
            prop_name = raw_edge.get(end)
            prop = properties.get(prop_name) if isinstance(prop_name, str) else None
            if prop is None:
                raise SchemaError(f"{ewhere}: {end} must name one of the properties")
            if prop.type.name != "entity" or not prop.required or prop.multiple:
                raise SchemaError(f"{ewhere}: {end} {prop_name!r} must be a required, single entity property")
            ends.append(prop.name)
        if ends[0] == ends[1]:
            raise SchemaError(f"{ewhere}: source and target must be different properties")
        edge = Edge(
            source=ends[0],
            target=ends[1],
            directed=_bool(raw_edge, "directed", ewhere, default=True),
            label=_labels(raw_edge.get("label"), ewhere),
        )

    return EntitySchema(
        name=name,
        label=_labels(raw.get("label"), where),
        plural=_labels(raw.get("plural"), f"{where}: plural"),
        description=" ".join(description.split()),
        properties=properties,
        caption_props=caption,
        required_any=required_any,
        edge=edge,
        order=tuple(order),
    )


def _load(directory: Traversable, data_path: Path | None) -> Registry:
    schemas: dict[str, EntitySchema] = {}
    files = sorted((f for f in directory.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    if not files:
        raise SchemaError(f"no schema files (*.yaml) in {directory}")
    for source in files:
        schema = _parse_schema(_read_yaml(source, source.name), source.name, data_path)
        stem = source.name[: -len(".yaml")]
        if schema.name != stem:
            raise SchemaError(f"{source.name}: name {schema.name!r} does not match the file name")
        schemas[schema.name] = schema
    for schema in schemas.values():
        for prop in schema.properties.values():
            for target in prop.range:
                if target not in schemas:
                    raise SchemaError(f"{schema.name}.yaml: property {prop.name}: unknown range {target!r}")
                if schemas[target].is_edge:
                    where = f"{schema.name}.yaml: property {prop.name}"
                    raise SchemaError(f"{where}: range {target!r} is a relation, not a record type")
    return Registry(schemas.values())


@functools.lru_cache(maxsize=1)
def _default_registry() -> Registry:
    return _load(_default_schema_dir(), None)


@functools.lru_cache(maxsize=1)
def load_forms() -> Registry:
    """The packaged procedure forms (``amane/forms/*.yaml``: complaint, report...): the same
    format and value types as record schemas, but they are not record types."""
    return _load(resources.files("amane").joinpath("forms"), None)


def load_registry(path: Path | None = None, *, data_path: Path | None = None) -> Registry:
    """Load and check every schema file. Without arguments, the packaged schema (cached).

    ``path`` is a directory of ``<Name>.yaml`` files; ``data_path`` the directory that
    ``values_from`` vocabularies are read from (default: the packaged ``amane/data``).
    """
    if path is None and data_path is None:
        return _default_registry()
    return _load(Path(path) if path is not None else _default_schema_dir(), data_path)
