"""Layer schemas: the fields a layer must carry, their types, enumerations and visibility.

A :class:`LayerSchema` is pure data. It says what a valid feature of a layer looks like (required
fields, types, ranges, enumerations with Chinese and English labels, the id field, the allowed
geometry types) and which fields may leave the server without a credential (``public``). The
validator (:mod:`layers.validate`) reads it; so do the importer, the exporter and the server's
redaction. Nothing here touches files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Choice", "Field", "LayerSchema", "FieldType", "PANDAS_DTYPES",
    "POLYGONAL", "PUNCTUAL", "LINEAR", "POINT_OR_POLYGON",
]

FieldType = Literal["str", "int", "float", "bool", "date", "json"]

#: The pandas dtype a validated column of each logical type has (nullable where pandas allows it;
#: a ``date`` is a naive ``datetime64`` at midnight; ``json`` is its text).
PANDAS_DTYPES: dict[str, str] = {
    "str": "str",
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "date": "datetime64[ms]",
    "json": "str",
}

POLYGONAL = frozenset({"Polygon", "MultiPolygon"})
PUNCTUAL = frozenset({"Point", "MultiPoint"})
LINEAR = frozenset({"LineString", "MultiLineString"})
POINT_OR_POLYGON = POLYGONAL | PUNCTUAL


@dataclass(frozen=True)
class Choice:
    """One allowed value of an enumerated field, with its Chinese and English labels."""

    value: str
    zh: str
    en: str


@dataclass(frozen=True)
class Field:
    """One attribute of a layer.

    Parameters
    ----------
    name : str
        Column name, snake_case English (the name used in files, the store and the API).
    type : {"str", "int", "float", "bool", "date", "json"}
        Logical type; ``json`` holds a JSON document as text (e.g. a substance inventory).
    zh, en : str
        Human labels.
    required : bool
        A missing or null value is a validation error.
    choices : tuple of Choice, optional
        The enumeration; any other value is an error naming the allowed ones.
    minimum, maximum : float, optional
        Inclusive numeric range.
    public : bool
        Whether the field may be shown to an unauthenticated user. Confidential enterprise data
        (inventories, owners' contacts, hidden-danger details) is ``public=False``.
    default : object, optional
        Value used when an optional field is absent from the input file.
    multiple : bool
        An enumerated field holding a set of its choices (e.g. the hazards a shelter is fit
        for), stored as text: the codes in the order of ``choices``, joined by commas. Input may
        separate them with commas, semicolons, 、 or bars and give labels for codes.
    """

    name: str
    type: FieldType
    zh: str
    en: str
    required: bool = False
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    public: bool = False
    default: object = None
    multiple: bool = False

    @property
    def dtype(self) -> str:
        """The pandas dtype of this field in a validated frame (see :data:`PANDAS_DTYPES`)."""
        return PANDAS_DTYPES[self.type]

    @property
    def values(self) -> tuple[str, ...]:
        """The allowed values of an enumerated field (empty when not enumerated)."""
        return tuple(c.value for c in self.choices)

    def split(self, value) -> tuple[str, ...]:
        """The codes of a ``multiple`` field's stored value (empty for a missing value).

        >>> f = Field("hazards", "str", "适用灾种", "hazards", multiple=True,
        ...           choices=(Choice("fire", "火灾", "fire"), Choice("flood", "洪涝", "flood")))
        >>> f.split("fire,flood"), f.split(None), f.split("")
        (('fire', 'flood'), (), ())
        """
        if value is None or (isinstance(value, float) and value != value) or not str(value).strip():
            return ()
        return tuple(v for v in str(value).split(",") if v)

    def label(self, value: str, lang: str = "zh") -> str:
        """The label of an enumerated value in ``lang`` ("zh" or "en"); the value itself if unknown."""
        for c in self.choices:
            if c.value == value:
                return c.zh if lang == "zh" else c.en
        return str(value)


@dataclass(frozen=True)
class LayerSchema:
    """A layer type of the catalogue.

    ``public_layer`` says whether the layer can be shown at all without a credential; within a
    public layer only the fields marked ``public`` are shown.
    """

    name: str
    zh: str
    en: str
    id_field: str
    geometry_types: frozenset[str]
    fields: tuple[Field, ...]
    public_layer: bool = False
    derived: bool = False
    description: str = ""
    extra: dict = field(default_factory=dict)

    def field(self, name: str) -> Field:
        """The field called ``name``; KeyError if the layer has none."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"layer {self.name!r} has no field {name!r}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def public_fields(self) -> tuple[str, ...]:
        """Fields an unauthenticated user may see ("()" for a layer that is not public)."""
        if not self.public_layer:
            return ()
        return tuple(f.name for f in self.fields if f.public)
