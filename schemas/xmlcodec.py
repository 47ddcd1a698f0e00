"""One XML codec for every resource class of the project.

Resource classes are dataclasses whose fields are declared once, with :func:`elem` and :func:`attr`, in
the order of the schema's ``xs:sequence`` (base-type fields first, as ``xs:extension`` orders them).
:func:`encode` writes an instance in that order; :func:`decode` reads a document strictly: the root
element and namespace must be the expected ones, elements must appear in schema order with their
multiplicity, every value must fit its simple type, and unknown elements or attributes are refused. Every
error names the element path and the rule it broke, so a peer can fix its message.

Parsing is hardened: DTDs (and with them entity expansion and external entities) are refused before
anything is read, the network is never touched, and huge trees are not allowed.

Documents are written without an XML declaration: IEEE 2030.5 peers parse UTF-8 by default and some
reject a declaration that carries an encoding.

Elements of another namespace than their class's (a profile's extension elements, declared with
``elem(..., namespace=...)``) are written with the prefix the declaring class names in ``prefixes`` of
:func:`xml_type`; the declaration is moved to the root element and only made when the document uses it.

Polymorphic fields (``elem(Base, polymorphic=True)``) hold any class derived from ``Base``: the value's
class is written as ``xsi:type`` when it is not ``Base`` itself, and read back from ``xsi:type`` by looking
the type name up among the decorated subclasses of ``Base`` (found by walking ``__subclasses__()`` when a
document asks, so there is no registry to keep in step).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from lxml import etree

T = TypeVar("T", bound="XmlResource")

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI_NS}}}type"
#: Characters outside XML 1.0's Char production (control characters, surrogates, U+FFFE, U+FFFF).
_NOT_XML_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class XmlDecodeError(ValueError):
    """A document that does not follow the schema; ``path`` locates it, ``rule`` says what broke."""

    def __init__(self, path: str, rule: str) -> None:
        super().__init__(f"{path}: {rule}" if path else rule)
        self.path = path
        self.rule = rule


# ---------------------------------------------------------------------------------------------------
# Simple types
# ---------------------------------------------------------------------------------------------------


class SimpleType:
    """A schema simple type: turns a Python value into element text and back, checking its facets."""

    name = "anySimpleType"

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> Any:
        return text

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` when ``value`` does not fit this type (used before encoding)."""


class IntType(SimpleType):
    """An integer restricted to ``[lo, hi]``, optionally to an enumerated set of values."""

    def __init__(self, name: str, lo: int, hi: int, allowed: frozenset[int] | None = None) -> None:
        self.name, self.lo, self.hi, self.allowed = name, lo, hi, allowed

    def to_text(self, value: int) -> str:
        self.check(value)
        return str(int(value))

    def from_text(self, text: str) -> int:
        stripped = text.strip()
        if not re.fullmatch(r"[+-]?[0-9]+", stripped):
            raise ValueError(f"{text!r} is not an integer ({self.name})")
        value = int(stripped)
        self.check(value)
        return value

    def check(self, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not an integer ({self.name})")
        if not self.lo <= value <= self.hi:
            raise ValueError(f"{value} is out of range for {self.name} ({self.lo}..{self.hi})")
        if self.allowed is not None and value not in self.allowed:
            raise ValueError(f"{value} is not one of the values {self.name} allows {sorted(self.allowed)}")


class BoolType(SimpleType):
    name = "boolean"

    def to_text(self, value: bool) -> str:
        self.check(value)
        return "true" if value else "false"

    def from_text(self, text: str) -> bool:
        stripped = text.strip()
        if stripped in ("true", "1"):
            return True
        if stripped in ("false", "0"):
            return False
        raise ValueError(f"{text!r} is not a boolean (true, false, 1 or 0)")

    def check(self, value: Any) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not a boolean")


class StringType(SimpleType):
    """A string of at most ``max_length`` characters."""

    def __init__(self, name: str, max_length: int | None) -> None:
        self.name, self.max_length = name, max_length

    def to_text(self, value: str) -> str:
        self.check(value)
        return value

    def from_text(self, text: str) -> str:
        self.check(text)
        return text

    def check(self, value: Any) -> None:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a string ({self.name})")
        if _NOT_XML_CHARACTER.search(value):
            raise ValueError(f"{value!r} holds a character XML 1.0 cannot carry")
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"{len(value)} characters is longer than {self.name} allows ({self.max_length})")


class HexBinaryType(SimpleType):
    """hexBinary of at most ``max_bytes`` octets, held as upper-case hex text."""

    def __init__(self, name: str, max_bytes: int) -> None:
        self.name, self.max_bytes = name, max_bytes

    def to_text(self, value: str) -> str:
        self.check(value)
        return value.upper()

    def from_text(self, text: str) -> str:
        value = text.strip()
        self.check(value)
        return value.upper()

    def check(self, value: Any) -> None:
        if not isinstance(value, str) or not re.fullmatch(r"(?:[0-9A-Fa-f]{2})*", value):
            raise ValueError(f"{value!r} is not hexBinary (an even number of hexadecimal digits)")
        if len(value) // 2 > self.max_bytes:
            raise ValueError(f"{len(value) // 2} octets is longer than {self.name} allows ({self.max_bytes})")


class AnyUriType(StringType):
    def __init__(self) -> None:
        super().__init__("anyURI", None)

    def from_text(self, text: str) -> str:
        return super().from_text(text.strip())


# ---------------------------------------------------------------------------------------------------
# Field declarations
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class XmlField:
    """How one dataclass field appears in XML."""

    name: str
    namespace: str | None  # None: the class's namespace
    xml_type: SimpleType | type[XmlResource]
    is_attribute: bool
    required: bool
    many: bool
    max_occurs: int | None
    polymorphic: bool = False  # the value may be of a derived class, named by xsi:type


def elem(
    xml_type: SimpleType | type[XmlResource],
    *,
    required: bool | None = None,
    many: bool = False,
    max_occurs: int | None = None,
    namespace: str | None = None,
    polymorphic: bool = False,
) -> Any:
    """Declare a child element: ``minOccurs`` 1 unless ``required=False`` (or ``many``, which defaults to
    ``minOccurs`` 0 and an unbounded ``maxOccurs`` unless ``max_occurs`` says otherwise). ``namespace``
    places the element in another namespace than its class's; ``polymorphic`` lets the value be of any
    class derived from ``xml_type``, written and read with ``xsi:type``."""
    if required is None:
        required = not many
    if polymorphic and isinstance(xml_type, SimpleType):
        raise TypeError("only elements of a resource class can be polymorphic")
    meta = {"xml": ("elem", xml_type, required, many, max_occurs, namespace, polymorphic)}
    if many:
        return dataclasses.field(default_factory=list, metadata=meta)
    if required:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=None, metadata=meta)


def attr(xml_type: SimpleType, *, required: bool = False, default: Any = None) -> Any:
    """Declare an attribute; optional attributes default to ``default`` (normally None: not written)."""
    meta = {"xml": ("attr", xml_type, required, False, None, None, False)}
    if required:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


class XmlResource:
    """Base of every class the codec reads and writes.

    Subclasses are ``@dataclass(kw_only=True)`` classes decorated with :func:`xml_type` (or one of the
    protocol packages' wrappers of it) which sets ``XML_NAMESPACE``, ``XML_NAME`` (the element name),
    ``XML_TYPE_NAME`` (the schema type name, used in ``xsi:type``) and ``XML_PREFIXES``.
    """

    XML_NAMESPACE: ClassVar[str] = ""
    XML_NAME: ClassVar[str] = ""
    XML_TYPE_NAME: ClassVar[str] = ""
    #: namespace -> prefix for the elements of other namespaces this class writes (inherited, merged)
    XML_PREFIXES: ClassVar[Mapping[str, str]] = MappingProxyType({})
    XML_FIELDS: ClassVar[tuple[XmlField, ...]] = ()


def xml_type(
    namespace: str,
    name: str | None = None,
    *,
    type_name: str | None = None,
    prefixes: Mapping[str, str] | None = None,
) -> Callable[[type[T]], type[T]]:
    """Class decorator: record the namespace, the element name and the field plan of a resource class.

    ``type_name`` is the schema type's name when it differs from the element's; ``prefixes`` maps a
    namespace to the prefix written for it (elements of that namespace declared on this class, or an
    ``xsi:type`` naming this class).
    """

    def decorate(cls: type[T]) -> type[T]:
        cls.XML_NAMESPACE = namespace
        cls.XML_NAME = name or cls.__name__
        cls.XML_TYPE_NAME = type_name or cls.XML_NAME
        cls.XML_PREFIXES = MappingProxyType({**cls.XML_PREFIXES, **(prefixes or {})})
        plan = []
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            spec = f.metadata.get("xml")
            if spec is None:
                continue
            kind, typ, required, many, max_occurs, ns, polymorphic = spec
            plan.append(XmlField(f.name, ns, typ, kind == "attr", required, many, max_occurs, polymorphic))
        cls.XML_FIELDS = tuple(plan)
        return cls

    return decorate


def derived_classes(base: type[T]) -> Iterator[type[T]]:
    """``base`` and every class derived from it that :func:`xml_type` decorated itself (a plain Python
    subclass inherits its parent's XML names and is left out)."""
    seen: set[type] = set()
    stack: list[type[T]] = [base]
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        if "XML_NAME" in vars(cls):
            yield cls
        stack.extend(cls.__subclasses__())


# ---------------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------------


def encode(obj: XmlResource) -> bytes:
    """Serialize a resource as a UTF-8 document, without an XML declaration.

    The document's default namespace is the resource's; elements of other namespaces (CSIP-AUS
    extensions) and ``xsi:type`` get prefixes, all declared on the root element.
    """
    cls = type(obj)
    writer = _Writer(cls.XML_NAMESPACE)
    body: list[str] = []
    attributes = writer.content(body, obj, cls.XML_NAME)
    declarations = "".join(f' xmlns:{prefix}="{uri}"' for uri, prefix in writer.declared.items())
    name = cls.XML_NAME
    head = f'<{name} xmlns="{cls.XML_NAMESPACE}"{declarations}{attributes}'
    text = f"{head}>{''.join(body)}</{name}>" if body else f"{head}/>"
    return text.encode("utf-8")


def to_element(obj: XmlResource) -> etree._Element:
    """The resource as an lxml element (for callers that work on trees, e.g. schema validation)."""
    return etree.fromstring(encode(obj))


_NEEDS_ESCAPE = re.compile(r'[&<>"\r\n\t]')
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}


def _escape_text(value: str) -> str:
    if "&" in value or "<" in value or ">" in value or "\r" in value:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return value


def _escape_attribute(value: str) -> str:
    if _NEEDS_ESCAPE.search(value):
        return _NEEDS_ESCAPE.sub(lambda m: _ESCAPES[m.group()], value)
    return value


class _Writer:
    """Writes the content of one document; remembers the namespace prefixes it had to use."""

    __slots__ = ("declared", "default")

    def __init__(self, default: str) -> None:
        self.default = default
        self.declared: dict[str, str] = {}  # namespace -> prefix, declared on the root

    def qname(self, namespace: str, local: str, owner: type[XmlResource]) -> str:
        if namespace == self.default:
            return local
        prefix = self.declared.get(namespace)
        if prefix is None:
            prefix = owner.XML_PREFIXES.get(namespace) or ("xsi" if namespace == XSI_NS else "ns0")
            taken = set(self.declared.values())
            counter = itertools.count()
            while prefix in taken:
                prefix = f"ns{next(counter)}"
            self.declared[namespace] = prefix
        return f"{prefix}:{local}"

    def content(self, out: list[str], obj: XmlResource, path: str) -> str:
        """Append ``obj``'s child elements to ``out``; return its attributes as text."""
        cls = type(obj)
        ns = cls.XML_NAMESPACE
        attributes: list[str] = []
        for f in cls.XML_FIELDS:
            value = getattr(obj, f.name)
            if f.is_attribute:
                if value is None:
                    if f.required:
                        raise ValueError(f"{path}/@{f.name}: required attribute has no value")
                    continue
                try:
                    text = f.xml_type.to_text(value)  # type: ignore[union-attr]
                except ValueError as exc:
                    raise ValueError(f"{path}/@{f.name}: {exc}") from None
                attributes.append(f' {f.name}="{_escape_attribute(text)}"')
                continue
            if f.many:
                values = value
            elif value is None:
                values = ()
            else:
                values = (value,)
            if f.required and not values:
                raise ValueError(f"{path}/{f.name}: required element has no value")
            if not values:
                continue
            name = self.qname(f.namespace or ns, f.name, cls)
            if isinstance(f.xml_type, SimpleType):
                for item in values:
                    try:
                        text = f.xml_type.to_text(item)
                    except ValueError as exc:
                        raise ValueError(f"{path}/{f.name}: {exc}") from None
                    out.append(f"<{name}>{_escape_text(text)}</{name}>")
                continue
            for item in values:
                if not isinstance(item, f.xml_type):
                    raise ValueError(f"{path}/{f.name}: expected {f.xml_type.__name__}, got {type(item).__name__}")
                inner: list[str] = []
                child_attributes = self.content(inner, item, f"{path}/{f.name}")
                if f.polymorphic and type(item) is not f.xml_type:
                    xsi = self.qname(XSI_NS, "type", type(item))
                    type_name = self.qname(item.XML_NAMESPACE, item.XML_TYPE_NAME, type(item))
                    child_attributes = f' {xsi}="{type_name}"{child_attributes}'
                if inner:
                    out.append(f"<{name}{child_attributes}>{''.join(inner)}</{name}>")
                else:
                    out.append(f"<{name}{child_attributes}/>")
        return "".join(attributes)


# ---------------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------------


def parse_document(data: bytes) -> etree._Element:
    """Parse untrusted bytes into an element tree, refusing DTDs, entities and network access."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise XmlDecodeError(
            "", "DOCTYPE and ENTITY declarations are not allowed (entity expansion and external entities are refused)"
        )
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise XmlDecodeError("", f"malformed XML: {exc.msg}") from None
    if root.getroottree().docinfo.doctype:
        raise XmlDecodeError("", "DOCTYPE declarations are not allowed")
    return root


def decode(data: bytes, cls: type[T]) -> T:
    """Read a document whose root must be ``cls``'s element in ``cls``'s namespace."""
    return from_element(parse_document(data), cls)


def from_element(root: etree._Element, cls: type[T], *, expected_name: str | None = None) -> T:
    """Read an already parsed element as ``cls`` (strictly; see the module docstring)."""
    name = expected_name or cls.XML_NAME
    qname = etree.QName(root)
    if qname.localname != name:
        raise XmlDecodeError("", f"root element is {qname.localname!r}; expected {name!r}")
    if qname.namespace != cls.XML_NAMESPACE:
        raise XmlDecodeError(name, f"element is in namespace {qname.namespace!r}; expected {cls.XML_NAMESPACE!r}")
    return _read(root, cls, name)


def _children(node: etree._Element) -> Iterator[etree._Element]:
    for child in node:
        if isinstance(child.tag, str):
            yield child


def _read(node: etree._Element, cls: type[T], path: str) -> T:
    ns = cls.XML_NAMESPACE
    kwargs: dict[str, Any] = {}
    fields = cls.XML_FIELDS
    attrs = {f.name: f for f in fields if f.is_attribute}
    for key, text in node.attrib.items():
        f = attrs.get(key)
        if f is None:
            if key.startswith("{http://www.w3.org/2001/XMLSchema-instance}"):
                continue
            raise XmlDecodeError(path, f"unknown attribute {etree.QName(key).localname!r}")
        try:
            kwargs[key] = f.xml_type.from_text(text)  # type: ignore[union-attr]
        except ValueError as exc:
            raise XmlDecodeError(f"{path}/@{key}", str(exc)) from None
    for f in attrs.values():
        if f.required and f.name not in kwargs:
            raise XmlDecodeError(path, f"required attribute {f.name!r} is missing")

    if node.text and node.text.strip():
        raise XmlDecodeError(path, "text is not allowed directly inside this element")
    elements = [f for f in fields if not f.is_attribute]
    cursor = 0
    counts: dict[str, int] = {}
    for child in _children(node):
        cq = etree.QName(child)
        if child.tail and child.tail.strip():
            raise XmlDecodeError(path, "text is not allowed between elements")
        index = _find(elements, cursor, cq, ns)
        if index is None:
            earlier = _find(elements, 0, cq, ns)
            if earlier is not None and earlier < cursor:
                after = elements[cursor - 1].name
                raise XmlDecodeError(
                    f"{path}/{cq.localname}", f"element is out of schema order (it must come before {after!r})"
                )
            if any(f.name == cq.localname for f in elements):
                raise XmlDecodeError(f"{path}/{cq.localname}", f"element is in the wrong namespace {cq.namespace!r}")
            raise XmlDecodeError(f"{path}/{cq.localname}", f"unexpected element in {cls.XML_NAME}")
        for skipped in elements[cursor:index]:
            if skipped.required and not counts.get(skipped.name):
                if any(etree.QName(later).localname == skipped.name for later in child.itersiblings()):
                    raise XmlDecodeError(
                        f"{path}/{skipped.name}",
                        f"element is out of schema order (it must come before {cq.localname!r})",
                    )
                raise XmlDecodeError(path, f"required element {skipped.name!r} is missing before {cq.localname!r}")
        f = elements[index]
        cursor = index
        seen = counts.get(f.name, 0)
        if seen and not f.many:
            raise XmlDecodeError(f"{path}/{f.name}", "element may appear only once")
        if f.max_occurs is not None and seen >= f.max_occurs:
            raise XmlDecodeError(f"{path}/{f.name}", f"element may appear at most {f.max_occurs} times")
        counts[f.name] = seen + 1
        value = _read_value(child, f, f"{path}/{f.name}")
        if f.many:
            kwargs.setdefault(f.name, []).append(value)
        else:
            kwargs[f.name] = value
    for f in elements[cursor:]:
        if f.required and not counts.get(f.name):
            raise XmlDecodeError(path, f"required element {f.name!r} is missing")
    for f in elements[:cursor]:
        if f.required and not counts.get(f.name):
            raise XmlDecodeError(path, f"required element {f.name!r} is missing")
    return cls(**kwargs)


def _find(elements: list[XmlField], start: int, qname: etree.QName, default_ns: str) -> int | None:
    for i in range(start, len(elements)):
        f = elements[i]
        if f.name == qname.localname and (f.namespace or default_ns) == qname.namespace:
            return i
    return None


def _read_value(child: etree._Element, f: XmlField, path: str) -> Any:
    if isinstance(f.xml_type, SimpleType):
        if len(child) or child.attrib:
            raise XmlDecodeError(path, f"a {f.xml_type.name} value holds no child elements or attributes")
        try:
            return f.xml_type.from_text(child.text or "")
        except ValueError as exc:
            raise XmlDecodeError(path, str(exc)) from None
    if f.polymorphic:
        return _read(child, _named_type(child, f.xml_type, path), path)
    return _read(child, f.xml_type, path)


def _named_type(node: etree._Element, declared: type[XmlResource], path: str) -> type[XmlResource]:
    """The class an element of a polymorphic field names with ``xsi:type`` (``declared`` without one)."""
    text = node.get(XSI_TYPE)
    if text is None:
        return declared
    prefix, _, local = text.strip().rpartition(":")
    namespace = node.nsmap.get(prefix or None)
    if namespace is None:
        missing = f"the prefix {prefix!r} is not declared" if prefix else "no default namespace is declared"
        raise XmlDecodeError(path, f"xsi:type {text!r} names no namespace: {missing}")
    found = [c for c in derived_classes(declared) if c.XML_NAMESPACE == namespace and c.XML_TYPE_NAME == local]
    if not found:
        raise XmlDecodeError(
            path, f"unknown xsi:type {text!r}: it is not {declared.XML_TYPE_NAME} or a known type derived from it"
        )
    if len(found) > 1:
        names = ", ".join(sorted(f"{c.__module__}.{c.__qualname__}" for c in found))
        raise TypeError(f"several classes are declared for the schema type {{{namespace}}}{local}: {names}")
    return found[0]
