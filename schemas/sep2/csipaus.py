"""CSIP-AUS v1.2 extension of IEEE 2030.5-2018 (namespace ``https://csipaus.org/ns``).

CSIP-AUS adds a ConnectionPoint resource (the site's NMI) linked from an EndDevice, and the dynamic
operating envelope (DOE) controls. Its core schema ``xs:redefine``s four 2030.5 types, appending optional
elements of its own namespace to the end of their sequence:

* DERControlBase: ``opModImpLimW``, ``opModExpLimW``, ``opModGenLimW``, ``opModLoadLimW`` (ActivePower);
* DERSettings: ``doeModesEnabled``; DERCapability: ``doeModesSupported`` (required by CSIP-AUS);
* EndDevice: ``ConnectionPointLink``.

Those fields live on the 2030.5 classes (:mod:`.der`, :mod:`.edev`) as optional elements declared with
``namespace=CSIPAUS_NS``: a document without them is plain 2030.5, one with them is CSIP-AUS. Classes
declaring them pass :data:`CSIPAUS_PREFIXES` so the documents write the ``csipaus`` prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from gridhan.schemas.sep2.base import CSIPAUS_NS, Resource
from gridhan.schemas.sep2.types import String32
from gridhan.schemas.xmlcodec import HexBinaryType, elem, xml_type

#: The prefix CSIP-AUS documents use for its namespace.
CSIPAUS_PREFIXES = {CSIPAUS_NS: "csipaus"}

#: Class decorator for resources of the CSIP-AUS namespace.
csipaus = partial(xml_type, CSIPAUS_NS, prefixes=CSIPAUS_PREFIXES)

#: Bit field of DOE modes, one octet: 0 opModExpLimW, 1 opModImpLimW, 2 opModGenLimW, 3 opModLoadLimW.
DOEControlType = HexBinaryType("DOEControlType", 1)


@csipaus(type_name="ConnectionPointType")
@dataclass(kw_only=True)
class ConnectionPoint(Resource):
    #: The connection point's identifier (in Australia, the NMI).
    connectionPointId: str = elem(String32)
