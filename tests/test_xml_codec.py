"""The one XML codec: every 2030.5 resource class writes schema-valid documents (the official schema is
the oracle) and reads back what it wrote; reading is strict and names the element and the rule."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gridhan.schemas import sep2
from gridhan.schemas.identifiers import sfdi_from_lfdi
from gridhan.schemas.xmlcodec import (
    AnyUriType,
    BoolType,
    HexBinaryType,
    IntType,
    StringType,
    XmlDecodeError,
    XmlResource,
    decode,
    encode,
)

#: Every class of the 2030.5 namespace (CSIP-AUS's own elements are covered in test_xml_codec_der.py).
RESOURCE_CLASSES = [
    cls for _, cls in inspect.getmembers(sep2, inspect.isclass)
    if issubclass(cls, XmlResource) and cls.XML_FIELDS is not None and cls.XML_NAMESPACE == sep2.SEP_NS
]  # fmt: skip


def sample(field_type: object, full: bool, csipaus: bool) -> object:
    if isinstance(field_type, BoolType):
        return True
    if isinstance(field_type, IntType):
        if field_type.allowed:
            return max(field_type.allowed)
        return field_type.hi if full else max(field_type.lo, 0)
    if isinstance(field_type, AnyUriType):
        return "/x/1"
    if isinstance(field_type, StringType):
        return "é" * (field_type.max_length or 8) if full else "x"
    if isinstance(field_type, HexBinaryType):
        return "AB" * field_type.max_bytes
    assert isinstance(field_type, type) and issubclass(field_type, XmlResource)
    return instance(field_type, full, csipaus)


def instance(cls: type[XmlResource], full: bool, csipaus: bool = False) -> XmlResource:
    """An instance with every field or the required ones. CSIP-AUS extension elements (optional in the
    classes) are filled for the CSIP-AUS schema only, always (it requires doeModesSupported), and never
    for plain sep.xsd, which does not know them."""
    kwargs = {}
    for f in cls.XML_FIELDS:
        extension = f.namespace == sep2.CSIPAUS_NS
        if extension and not csipaus:
            continue
        if not (f.required or full or extension):
            continue
        value = sample(f.xml_type, full, csipaus)
        kwargs[f.name] = [value, value] if f.many else value
    return cls(**kwargs)


def global_elements(schema_path) -> set[str]:
    root = etree.parse(str(schema_path)).getroot()
    return {e.get("name") for e in root.findall("{http://www.w3.org/2001/XMLSchema}element")}


@pytest.mark.parametrize("full", [True, False], ids=["every-field", "required-only"])
@pytest.mark.parametrize("cls", RESOURCE_CLASSES, ids=lambda c: c.__name__)
def test_every_resource_class_writes_schema_valid_xml(cls, full, sep_schemas):
    sep_xsd = sep_schemas[0].path
    if cls.XML_NAME not in global_elements(sep_xsd):
        pytest.skip(f"{cls.XML_NAME} is not a global element of sep.xsd (only used inside others)")
    for schema in sep_schemas:
        obj = instance(cls, full, csipaus=schema.path.name.startswith("csipaus"))
        document = encode(obj)
        assert not document.startswith(b"<?xml")
        assert schema.errors(document) == [], document
        assert decode(document, cls) == obj


def test_known_classes_cover_the_core_resources():
    names = {c.XML_NAME for c in RESOURCE_CLASSES}
    assert {
        "DeviceCapability",
        "Time",
        "EndDevice",
        "EndDeviceList",
        "Registration",
        "FunctionSetAssignments",
        "FunctionSetAssignmentsList",
        "DeviceInformation",
        "DeviceStatus",
        "PowerStatus",
        "LogEvent",
        "LogEventList",
        "SelfDevice",
        "Error",
    } <= names


lfdis = st.text(alphabet="0123456789ABCDEF", min_size=40, max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    lfdi=lfdis,
    changed=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    enabled=st.none() | st.booleans(),
    post_rate=st.none() | st.integers(min_value=0, max_value=2**32 - 1),
    category=st.none() | st.text(alphabet="0123456789ABCDEF", min_size=0, max_size=4).map(lambda s: s * 2),
)
def test_end_device_round_trip_property(lfdi, changed, enabled, post_rate, category, sep_schemas):
    edev = sep2.EndDevice(
        href="/edev/1",
        lFDI=lfdi,
        sFDI=sfdi_from_lfdi(lfdi),
        changedTime=changed,
        enabled=enabled,
        postRate=post_rate,
        deviceCategory=category or None,
        RegistrationLink=sep2.Link(href="/edev/1/rg"),
    )
    document = encode(edev)
    for schema in sep_schemas:
        assert schema.errors(document) == []
    assert decode(document, sep2.EndDevice) == edev


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            '<Time xmlns="urn:ieee:std:2030.5:ns"><currentTime>1</currentTime></Time>',
            "required element 'dstEndTime' is missing",
        ),
        ('<Time xmlns="urn:ieee:std:2030.5:ns" colour="red"/>', "unknown attribute 'colour'"),
        ('<Time xmlns="urn:ieee:std:2030.5:ns">text</Time>', "text is not allowed"),
        (
            '<EndDevice xmlns="urn:ieee:std:2030.5:ns"><sFDI>1</sFDI><sFDI>2</sFDI></EndDevice>',
            "EndDevice/sFDI: element may appear only once",
        ),
        ('<EndDevice xmlns="urn:ieee:std:2030.5:ns"><sFDI>x1</sFDI></EndDevice>', "EndDevice/sFDI: 'x1' is not an"),
        ('<EndDevice xmlns="urn:ieee:std:2030.5:ns"><lFDI>ABC</lFDI></EndDevice>', "EndDevice/lFDI: 'ABC' is not hex"),
        (
            '<EndDevice xmlns="urn:ieee:std:2030.5:ns"><sFDI>1</sFDI><changedTime>1</changedTime>'
            "<enabled>maybe</enabled></EndDevice>",
            "EndDevice/enabled: 'maybe' is not a boolean",
        ),
        (
            '<EndDevice xmlns="urn:ieee:std:2030.5:ns"><sFDI>1</sFDI><changedTime>1</changedTime>'
            "<RegistrationLink/></EndDevice>",
            "required attribute 'href' is missing",
        ),
        (
            '<EndDevice xmlns="urn:ieee:std:2030.5:ns" xmlns:o="urn:other"><sFDI>1</sFDI>'
            "<o:changedTime>1</o:changedTime></EndDevice>",
            "wrong namespace 'urn:other'",
        ),
    ],
)
def test_strict_reading_names_element_and_rule(document, message):
    cls = sep2.Time if document.startswith("<Time") else sep2.EndDevice
    with pytest.raises(XmlDecodeError) as caught:
        decode(document.encode(), cls)
    assert message in str(caught.value)


def test_encoding_refuses_values_outside_their_type():
    with pytest.raises(ValueError, match="out of range for UInt8"):
        encode(
            sep2.LogEvent(createdDateTime=0, functionSet=256, logEventCode=0, logEventID=0, logEventPEN=0, profileID=0)
        )
    with pytest.raises(ValueError, match="longer than String32"):
        encode(
            sep2.LogEvent(
                createdDateTime=0,
                details="x" * 33,
                functionSet=0,
                logEventCode=0,
                logEventID=0,
                logEventPEN=0,
                profileID=0,
            )
        )


def test_field_plans_follow_dataclass_order():
    for cls in RESOURCE_CLASSES:
        names = [f.name for f in dataclasses.fields(cls)]
        plan = [f.name for f in cls.XML_FIELDS]
        assert plan == [n for n in names if n in plan]


@settings(max_examples=200, deadline=None)
@given(details=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=32))
def test_text_is_escaped_and_round_trips_or_is_refused(details):
    event = sep2.LogEvent(
        href='/lel/1?x="1"&y=<2>', createdDateTime=0, details=details, functionSet=0, logEventCode=0, logEventID=0,
        logEventPEN=0, profileID=0,
    )  # fmt: skip
    legal = all(c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff") for c in details)
    if not legal:
        with pytest.raises(ValueError, match=r"XML 1\.0 cannot carry"):
            encode(event)
        return
    document = encode(event)
    etree.fromstring(document)  # well-formed
    assert decode(document, sep2.LogEvent) == event
