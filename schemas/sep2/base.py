"""Common base types of IEEE 2030.5-2018 (sep.xsd "Common" package; clause 6.4 on resources and lists).

Every resource has an optional ``href``; lists carry ``all`` (entries in the whole list) and
``results`` (entries in this page) as clause 6.6 (List paging) describes; links point at resources,
list links also tell how many entries the list holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from gridhan.schemas.sep2.types import (
    AnyURI,
    String32,
    SubscribableType,
    UInt16,
    UInt32,
    VersionType,
    mRIDType,
)
from gridhan.schemas.xmlcodec import XmlResource, attr, elem, xml_type

SEP_NS = "urn:ieee:std:2030.5:ns"
CSIPAUS_NS = "https://csipaus.org/ns"
CONTENT_TYPE = "application/sep+xml"

#: Class decorator for resources of the 2030.5 namespace.
sep = partial(xml_type, SEP_NS)


@sep()
@dataclass(kw_only=True)
class Resource(XmlResource):
    href: str | None = attr(AnyURI)


@sep()
@dataclass(kw_only=True)
class Link(XmlResource):
    href: str = attr(AnyURI, required=True)


@sep()
@dataclass(kw_only=True)
class ListLink(Link):
    all: int | None = attr(UInt32)


@sep()
@dataclass(kw_only=True)
class SubscribableResource(Resource):
    subscribable: int | None = attr(SubscribableType)


@sep()
@dataclass(kw_only=True)
class List(Resource):
    all: int = attr(UInt32, required=True)
    results: int = attr(UInt32, required=True)


@sep()
@dataclass(kw_only=True)
class SubscribableList(SubscribableResource):
    all: int = attr(UInt32, required=True)
    results: int = attr(UInt32, required=True)


@sep()
@dataclass(kw_only=True)
class IdentifiedObject(Resource):
    mRID: str = elem(mRIDType)
    description: str | None = elem(String32, required=False)
    version: int | None = elem(VersionType, required=False)


@sep()
@dataclass(kw_only=True)
class SubscribableIdentifiedObject(SubscribableResource):
    mRID: str = elem(mRIDType)
    description: str | None = elem(String32, required=False)
    version: int | None = elem(VersionType, required=False)


@sep()
@dataclass(kw_only=True)
class Error(XmlResource):
    """Error body (sep.xsd ``Error``); reasonCode 0 invalid request format, 1 invalid request values,
    2 resource limit reached, 3 conditional subscription field not supported, 4 maximum request
    frequency exceeded."""

    maxRetryDuration: int | None = elem(UInt16, required=False)
    reasonCode: int = elem(UInt16)
