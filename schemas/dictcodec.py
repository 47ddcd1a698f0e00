"""Resource classes to and from plain JSON-able dictionaries, with the standard's element names as keys.

The admin API uses it to take 2030.5 structures (a DERControlBase, a DERCurve, a DefaultDERControl) in
JSON exactly as the schema names them, and to show stored documents back. Reading is as strict as the XML
codec: unknown keys, missing required members and out-of-range values are refused with the path of the
member and the rule it broke.
"""

from __future__ import annotations

from typing import Any, TypeVar

from gridhan.schemas.xmlcodec import SimpleType, XmlDecodeError, XmlResource

T = TypeVar("T", bound=XmlResource)


def to_dict(obj: XmlResource) -> dict[str, Any]:
    """Members that have a value, nested resources as dictionaries, repeated ones as lists."""
    out: dict[str, Any] = {}
    for f in type(obj).XML_FIELDS:
        value = getattr(obj, f.name)
        if value is None or (f.many and not value):
            continue
        if isinstance(f.xml_type, SimpleType):
            out[f.name] = value
        elif f.many:
            out[f.name] = [to_dict(v) for v in value]
        else:
            out[f.name] = to_dict(value)
    return out


def from_dict(cls: type[T], data: Any, path: str | None = None) -> T:
    """Build ``cls`` from a dictionary; :class:`XmlDecodeError` names the member and the rule."""
    where = path or cls.XML_NAME
    if not isinstance(data, dict):
        raise XmlDecodeError(where, f"expected an object with the members of {cls.XML_NAME}")
    fields = {f.name: f for f in cls.XML_FIELDS}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise XmlDecodeError(f"{where}/{unknown[0]}", f"{cls.XML_NAME} has no member {unknown[0]!r}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data or data[name] is None:
            if f.required:
                raise XmlDecodeError(where, f"required member {name!r} is missing")
            continue
        value = data[name]
        if f.many:
            if not isinstance(value, list):
                raise XmlDecodeError(f"{where}/{name}", "expected a list")
            if f.max_occurs is not None and len(value) > f.max_occurs:
                raise XmlDecodeError(f"{where}/{name}", f"at most {f.max_occurs} entries")
            kwargs[name] = [_member(f.xml_type, v, f"{where}/{name}[{i}]") for i, v in enumerate(value)]
        else:
            kwargs[name] = _member(f.xml_type, value, f"{where}/{name}")
    return cls(**kwargs)


def _member(xml_type: Any, value: Any, path: str) -> Any:
    if isinstance(xml_type, SimpleType):
        try:
            xml_type.check(value)
        except ValueError as exc:
            raise XmlDecodeError(path, str(exc)) from None
        return value
    return from_dict(xml_type, value, path)
