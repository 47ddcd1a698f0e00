"""Realistic documents of the DER, Response, Subscription/Notification and (Mirror) Metering function sets
and of the CSIP-AUS 1.2 extension, held against the official schemas and read back; the codec's
namespace prefixes for extension elements and its xsi:type polymorphism."""

from __future__ import annotations

import pytest
from lxml import etree

from gridhan.schemas import sep2
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

LFDI = "3E4F45AB31EDFE5B67E343E5E4562E31984E23E5"
MRID = "A1B2C3D4E5F60718293A4B5C6D7E8F90"


@pytest.fixture(scope="module")
def schemas(sep_schemas):
    """(plain IEEE 2030.5-2018, CSIP-AUS 1.2) validators."""
    by_folder = {v.path.parent.name: v for v in sep_schemas}
    if "sep2-2018" not in by_folder or "csipaus-1.2" not in by_folder:
        pytest.skip("both sep2-2018/sep.xsd and csipaus-1.2/csipaus-core.xsd are needed")
    return by_folder["sep2-2018"], by_folder["csipaus-1.2"]


def round_trip(obj: XmlResource, *validators) -> bytes:
    document = encode(obj)
    for validator in validators:
        assert validator.errors(document) == [], document
    assert decode(document, type(obj)) == obj
    return document


def event_status(status: int = 0) -> sep2.EventStatus:
    return sep2.EventStatus(currentStatus=status, dateTime=1_700_000_000, potentiallySuperseded=False)


def der_control(base: sep2.DERControlBase, n: int = 1) -> sep2.DERControl:
    return sep2.DERControl(
        href=f"/derp/1/derc/{n}",
        replyTo="/rsps/1/rsp",
        responseRequired="03",
        subscribable=0,
        mRID=f"{n:032X}",
        description="Export limit",
        version=0,
        creationTime=1_700_000_000,
        EventStatus=event_status(),
        interval=sep2.DateTimeInterval(duration=1800, start=1_700_003_600),
        randomizeStart=60,
        DERControlBase=base,
    )


# ---------------------------------------------------------------------------------------------------
# CSIP-AUS: extension elements in their own namespace, at the end of the redefined types
# ---------------------------------------------------------------------------------------------------


def test_csipaus_export_limit_is_valid_csipaus_and_not_plain_2030_5(schemas):
    plain, csipaus = schemas
    control = der_control(sep2.DERControlBase(opModExpLimW=sep2.ActivePower(multiplier=3, value=5)))
    document = round_trip(control, csipaus)
    assert b'xmlns:csipaus="https://csipaus.org/ns"' in document
    assert b"<csipaus:opModExpLimW><multiplier>3</multiplier><value>5</value></csipaus:opModExpLimW>" in document
    errors = plain.errors(document)
    assert len(errors) == 1 and "{https://csipaus.org/ns}opModExpLimW" in errors[0]


def test_csipaus_modes_follow_the_2030_5_modes_in_the_redefined_order(schemas):
    _, csipaus = schemas
    base = sep2.DERControlBase(
        opModConnect=True,
        opModMaxLimW=10_000,
        opModTargetW=sep2.ActivePower(multiplier=3, value=4),
        rampTms=600,
        opModImpLimW=sep2.ActivePower(multiplier=3, value=15),
        opModExpLimW=sep2.ActivePower(multiplier=0, value=1500),
        opModGenLimW=sep2.ActivePower(multiplier=3, value=10),
        opModLoadLimW=sep2.ActivePower(multiplier=3, value=12),
    )
    default = sep2.DefaultDERControl(href="/derp/1/dderc", mRID=MRID, DERControlBase=base, setGradW=27)
    document = round_trip(default, csipaus)
    assert document.count(b"xmlns:csipaus") == 1  # declared once, on the root
    names = [etree.QName(e).localname for e in etree.fromstring(document).find("{*}DERControlBase")]
    assert names[-5:] == ["rampTms", "opModImpLimW", "opModExpLimW", "opModGenLimW", "opModLoadLimW"]


def test_csipaus_element_in_the_2030_5_namespace_is_refused():
    document = (
        b'<DERControlBase xmlns="urn:ieee:std:2030.5:ns"><opModExpLimW><multiplier>0</multiplier>'
        b"<value>1</value></opModExpLimW></DERControlBase>"
    )
    with pytest.raises(XmlDecodeError, match="opModExpLimW: element is in the wrong namespace"):
        decode(document, sep2.DERControlBase)


def test_csipaus_capability_settings_end_device_and_connection_point(schemas):
    plain, csipaus = schemas
    capability = sep2.DERCapability(
        href="/edev/1/der/1/dercap",
        modesSupported="00500088",
        rtgMaxVA=sep2.ApparentPower(multiplier=3, value=5),
        rtgMaxW=sep2.ActivePower(multiplier=3, value=5),
        type=4,
        doeModesSupported="03",
    )
    settings = sep2.DERSettings(
        href="/edev/1/der/1/derg",
        modesEnabled="00500088",
        setGradW=27,
        setMaxW=sep2.ActivePower(multiplier=3, value=5),
        updatedTime=1_700_000_000,
        doeModesEnabled="01",
    )
    end_device = sep2.EndDevice(
        href="/edev/1",
        lFDI=LFDI,
        sFDI=16_726_121_139,
        changedTime=1_700_000_000,
        ConnectionPointLink=sep2.Link(href="/edev/1/cp"),
    )
    point = sep2.ConnectionPoint(href="/edev/1/cp", connectionPointId="4103000001")
    for obj in (capability, settings, end_device):
        document = round_trip(obj, csipaus)
        assert plain.errors(document), f"{type(obj).__name__} with CSIP-AUS elements should not be plain 2030.5"
    document = round_trip(point, csipaus)
    assert document.startswith(b'<ConnectionPoint xmlns="https://csipaus.org/ns"')
    # CSIP-AUS requires doeModesSupported: without it the capability is plain 2030.5 only.
    capability.doeModesSupported = None
    document = round_trip(capability, plain)
    assert csipaus.errors(document)


def test_documents_without_csipaus_elements_declare_no_csipaus_namespace(schemas):
    plain, csipaus = schemas
    control = der_control(sep2.DERControlBase(opModMaxLimW=5000))
    end_device = sep2.EndDevice(href="/edev/1", lFDI=LFDI, sFDI=16_726_121_139, changedTime=0)
    for obj in (control, end_device, sep2.DERControlList(all=1, results=1, DERControl=[control])):
        document = round_trip(obj, plain, csipaus)
        assert b"csipaus" not in document
        assert b"xmlns:" not in document


def filled(cls: type[XmlResource]) -> XmlResource:
    """``cls`` with every 2030.5 field set and no CSIP-AUS one."""
    kwargs = {}
    for f in cls.XML_FIELDS:
        if f.namespace == sep2.CSIPAUS_NS:
            continue
        t = f.xml_type
        if isinstance(t, BoolType):
            value = False
        elif isinstance(t, IntType):
            value = min(t.allowed) if t.allowed else max(t.lo, 0)
        elif isinstance(t, AnyUriType):
            value = "/x"
        elif isinstance(t, StringType):
            value = "x"
        elif isinstance(t, HexBinaryType):
            value = "01"
        else:
            value = filled(t)
        kwargs[f.name] = [value] if f.many else value
    return cls(**kwargs)


@pytest.mark.parametrize(
    "cls",
    [
        sep2.DERControl,
        sep2.DERControlList,
        sep2.DefaultDERControl,
        sep2.DERSettings,
        sep2.DERCapability,
        sep2.EndDevice,
        sep2.EndDeviceList,
        sep2.Notification,
        sep2.MirrorUsagePoint,
    ],
    ids=lambda c: c.__name__,
)
def test_every_field_but_csipaus_writes_only_the_default_namespace(cls):
    document = encode(filled(cls))
    assert b"csipaus" not in document and b"xmlns:" not in document


# ---------------------------------------------------------------------------------------------------
# DER
# ---------------------------------------------------------------------------------------------------


def volt_var_curve() -> sep2.DERCurve:
    # Reactive power in % of setMaxVar (yRefType 2) against voltage in hundredths of % of nominal.
    points = [(9_000, 44), (9_565, 0), (10_435, 0), (11_217, -60)]
    return sep2.DERCurve(
        href="/derp/1/dc/1",
        mRID="C0000000000000000000000000000001",
        description="Volt-Var AS4777.2",
        creationTime=1_700_000_000,
        CurveData=[sep2.CurveData(xvalue=x, yvalue=y) for x, y in points],
        curveType=11,
        openLoopTms=500,
        xMultiplier=-2,
        yMultiplier=0,
        yRefType=2,
    )


def test_volt_var_curve_with_four_points(schemas):
    curve = volt_var_curve()
    round_trip(curve, *schemas)
    curves = sep2.DERCurveList(href="/derp/1/dc", all=1, results=1, DERCurve=[curve])
    round_trip(curves, *schemas)
    control = der_control(sep2.DERControlBase(opModVoltVar=sep2.Link(href=curve.href)))
    document = round_trip(control, *schemas)
    assert b'<opModVoltVar href="/derp/1/dc/1"/>' in document


def test_curve_holds_at_most_ten_points():
    curve = volt_var_curve()
    curve.CurveData = [sep2.CurveData(xvalue=i, yvalue=0) for i in range(11)]
    with pytest.raises(XmlDecodeError, match="CurveData: element may appear at most 10 times"):
        decode(encode(curve), sep2.DERCurve)
    curve.CurveData = []
    with pytest.raises(ValueError, match="DERCurve/CurveData: required element has no value"):
        encode(curve)


def test_der_status_with_its_sub_statuses(schemas):
    at = 1_700_000_300
    status = sep2.DERStatus(
        href="/edev/1/der/1/ders",
        subscribable=1,
        alarmStatus="00000000",
        genConnectStatus=sep2.ConnectStatusType(dateTime=at, value="07"),
        inverterStatus=sep2.InverterStatusType(dateTime=at, value=4),
        localControlModeStatus=sep2.LocalControlModeStatusType(dateTime=at, value=1),
        manufacturerStatus=sep2.ManufacturerStatusType(dateTime=at, value="MPPT"),
        operationalModeStatus=sep2.OperationalModeStatusType(dateTime=at, value=2),
        readingTime=at,
        stateOfChargeStatus=sep2.StateOfChargeStatusType(dateTime=at, value=8_050),
        storageModeStatus=sep2.StorageModeStatusType(dateTime=at, value=1),
        storConnectStatus=sep2.ConnectStatusType(dateTime=at, value="03"),
    )
    round_trip(status, *schemas)
    reserved = encode(status).replace(b"<value>4</value>", b"<value>11</value>")
    with pytest.raises(XmlDecodeError, match=r"DERStatus/inverterStatus/value: 11 is out of range"):
        decode(reserved, sep2.DERStatus)


def test_program_der_and_its_resources(schemas):
    program = sep2.DERProgram(
        href="/derp/1",
        mRID=MRID,
        description="Dynamic export",
        ActiveDERControlListLink=sep2.ListLink(href="/derp/1/actderc", all=0),
        DefaultDERControlLink=sep2.Link(href="/derp/1/dderc"),
        DERControlListLink=sep2.ListLink(href="/derp/1/derc", all=1),
        DERCurveListLink=sep2.ListLink(href="/derp/1/dc", all=1),
        primacy=1,
    )
    round_trip(sep2.DERProgramList(href="/derp", all=1, results=1, pollRate=300, DERProgram=[program]), *schemas)
    der = sep2.DER(
        href="/edev/1/der/1",
        AssociatedDERProgramListLink=sep2.ListLink(href="/edev/1/der/1/derp", all=1),
        CurrentDERProgramLink=sep2.Link(href="/derp/1"),
        DERAvailabilityLink=sep2.Link(href="/edev/1/der/1/dera"),
        DERCapabilityLink=sep2.Link(href="/edev/1/der/1/dercap"),
        DERSettingsLink=sep2.Link(href="/edev/1/der/1/derg"),
        DERStatusLink=sep2.Link(href="/edev/1/der/1/ders"),
    )
    round_trip(sep2.DERList(href="/edev/1/der", all=1, results=1, DER=[der]), *schemas)
    availability = sep2.DERAvailability(
        href="/edev/1/der/1/dera",
        readingTime=1_700_000_000,
        reserveChargePercent=2_000,
        statVarAvail=sep2.ReactivePower(multiplier=3, value=3),
        statWAvail=sep2.ActivePower(multiplier=3, value=4),
    )
    round_trip(availability, *schemas)


# ---------------------------------------------------------------------------------------------------
# Polymorphism: Notification's Resource and ResponseList's Response, named by xsi:type
# ---------------------------------------------------------------------------------------------------


def notification(resource: sep2.Resource | None) -> sep2.Notification:
    return sep2.Notification(
        subscribedResource="/derp/1/derc",
        Resource=resource,
        status=0,
        subscriptionURI="https://aggregator.example/sub/7",
    )


def test_notification_carries_a_der_control_list_by_xsi_type(schemas):
    controls = sep2.DERControlList(
        href="/derp/1/derc",
        subscribable=1,
        all=2,
        results=2,
        DERControl=[
            der_control(sep2.DERControlBase(opModMaxLimW=5_000), 1),
            der_control(sep2.DERControlBase(opModConnect=False), 2),
        ],
    )
    document = round_trip(notification(controls), *schemas)
    root = etree.fromstring(document)
    assert root.nsmap == {None: sep2.SEP_NS, "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
    resource = root.find("{urn:ieee:std:2030.5:ns}Resource")
    assert resource.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "DERControlList"
    decoded = decode(document, sep2.Notification)
    assert type(decoded.Resource) is sep2.DERControlList
    assert decoded.Resource.DERControl[1].DERControlBase.opModConnect is False


def test_notification_with_csipaus_content_and_a_csipaus_type(schemas):
    _, csipaus = schemas
    control = der_control(sep2.DERControlBase(opModExpLimW=sep2.ActivePower(multiplier=0, value=1500)))
    document = round_trip(notification(sep2.DERControlList(all=1, results=1, DERControl=[control])), csipaus)
    assert document.count(b"xmlns:csipaus") == 1
    point = sep2.ConnectionPoint(href="/edev/1/cp", connectionPointId="4103000001")
    document = round_trip(notification(point), csipaus)
    assert b'xsi:type="csipaus:ConnectionPointType"' in document


def test_notification_without_xsi_type_or_resource(schemas):
    for resource in (None, sep2.Resource(href="/derp/1/derc")):
        document = round_trip(notification(resource), *schemas)
        assert b"xsi" not in document


@pytest.mark.parametrize(
    ("xsi_type", "message"),
    [
        ("DERControlListe", "unknown xsi:type 'DERControlListe'"),
        ("ActivePower", "unknown xsi:type 'ActivePower'"),  # a type, but not a Resource
        ("nope:DERControlList", "names no namespace: the prefix 'nope' is not declared"),
    ],
)
def test_unknown_xsi_type_is_refused_by_name(xsi_type, message):
    document = (
        '<Notification xmlns="urn:ieee:std:2030.5:ns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<subscribedResource>/derp/1/derc</subscribedResource><Resource xsi:type="{xsi_type}" all="0" '
        'results="0"/><status>0</status><subscriptionURI>https://a.example/n</subscriptionURI></Notification>'
    )
    with pytest.raises(XmlDecodeError, match=message) as caught:
        decode(document.encode(), sep2.Notification)
    assert caught.value.path == "Notification/Resource"


def test_prefixed_xsi_type_is_resolved_through_the_document_namespaces():
    document = (
        b'<s:Notification xmlns:s="urn:ieee:std:2030.5:ns" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        b"<s:subscribedResource>/derp</s:subscribedResource>"
        b'<s:Resource i:type="s:DERProgramList" all="0" results="0"/><s:status>0</s:status>'
        b"<s:subscriptionURI>https://a.example/n</s:subscriptionURI></s:Notification>"
    )
    decoded = decode(document, sep2.Notification)
    assert decoded.Resource == sep2.DERProgramList(all=0, results=0)


def test_response_list_mixes_response_kinds(schemas):
    responses = sep2.ResponseList(
        href="/rsps/1/rsp",
        all=3,
        results=3,
        Response=[
            sep2.DERControlResponse(createdDateTime=1_700_003_600, endDeviceLFDI=LFDI, status=2, subject=MRID),
            sep2.Response(endDeviceLFDI=LFDI, subject=MRID),
            sep2.DrResponse(
                endDeviceLFDI=LFDI,
                status=1,
                subject=MRID,
                AppliedTargetReduction=sep2.AppliedTargetReduction(type=1, value=2),
                DutyCycle=sep2.DutyCycle(normalValue=50),
                overrideDuration=0,
            ),
        ],
    )
    document = round_trip(responses, *schemas)
    assert document.count(b"xsi:type=") == 2  # the plain Response needs none
    assert [type(r) for r in decode(document, sep2.ResponseList).Response] == [
        sep2.DERControlResponse,
        sep2.Response,
        sep2.DrResponse,
    ]
    sets = sep2.ResponseSetList(
        href="/rsps",
        all=1,
        results=1,
        ResponseSet=[sep2.ResponseSet(href="/rsps/1", mRID=MRID, ResponseListLink=sep2.ListLink(href="/rsps/1/rsp"))],
    )
    round_trip(sets, *schemas)


def test_subscription_with_condition(schemas):
    subscription = sep2.Subscription(
        href="/edev/1/sub/1",
        subscribedResource="/upt/1/mr/1/r",
        Condition=sep2.Condition(attributeIdentifier=0, lowerThreshold=-5_000, upperThreshold=5_000),
        encoding=0,
        level="+S1",
        limit=1,
        notificationURI="https://aggregator.example/ntfy",
    )
    round_trip(sep2.SubscriptionList(href="/edev/1/sub", all=1, results=1, Subscription=[subscription]), *schemas)


# ---------------------------------------------------------------------------------------------------
# Metering and mirror metering
# ---------------------------------------------------------------------------------------------------


def test_mirror_usage_point_with_reading_type_and_readings(schemas):
    power = sep2.ReadingType(
        accumulationBehaviour=12,
        commodity=1,
        dataQualifier=2,
        flowDirection=1,
        intervalLength=300,
        kind=37,
        phase=0,
        powerOfTenMultiplier=0,
        uom=38,
    )
    reading = sep2.MirrorMeterReading(
        mRID="5509D69F8B3535950000000000009182",
        description="Site real power",
        lastUpdateTime=1_700_000_300,
        MirrorReadingSet=[
            sep2.MirrorReadingSet(
                mRID="5509D69F8B3535950000000000009183",
                timePeriod=sep2.DateTimeInterval(duration=600, start=1_699_999_700),
                Reading=[
                    sep2.Reading(timePeriod=sep2.DateTimeInterval(duration=300, start=1_699_999_700), value=-2_150),
                    sep2.Reading(timePeriod=sep2.DateTimeInterval(duration=300, start=1_700_000_000), value=-1_980),
                ],
            )
        ],
        nextUpdateTime=1_700_000_600,
        Reading=sep2.Reading(value=-1_980, qualityFlags="01"),
        ReadingType=power,
    )
    mirror = sep2.MirrorUsagePoint(
        mRID="5509D69F8B3535950000000000009181",
        description="DER site",
        roleFlags="49",
        serviceCategoryKind=0,
        status=1,
        deviceLFDI=LFDI,
        MirrorMeterReading=[reading],
        postRate=300,
    )
    round_trip(mirror, *schemas)
    round_trip(sep2.MirrorUsagePointList(href="/mup", all=1, results=1, MirrorUsagePoint=[mirror]), *schemas)
    round_trip(sep2.MirrorMeterReadingList(all=1, results=1, MirrorMeterReading=[reading]), *schemas)
    wrong = encode(mirror).replace(b"<kind>37</kind>", b"<kind>36</kind>")
    with pytest.raises(XmlDecodeError, match="ReadingType/kind: 36 is not one of the values KindType allows"):
        decode(wrong, sep2.MirrorUsagePoint)


def test_usage_point_and_meter_readings(schemas):
    point = sep2.UsagePoint(
        href="/upt/1",
        mRID=MRID,
        roleFlags="49",
        serviceCategoryKind=0,
        status=1,
        deviceLFDI=LFDI,
        MeterReadingListLink=sep2.ListLink(href="/upt/1/mr", all=1),
    )
    round_trip(sep2.UsagePointList(href="/upt", all=1, results=1, UsagePoint=[point]), *schemas)
    meter_reading = sep2.MeterReading(
        href="/upt/1/mr/1",
        mRID=MRID,
        ReadingLink=sep2.Link(href="/upt/1/mr/1/r"),
        ReadingSetListLink=sep2.ListLink(href="/upt/1/mr/1/rs", all=1),
        ReadingTypeLink=sep2.Link(href="/upt/1/mr/1/rt"),
    )
    round_trip(sep2.MeterReadingList(href="/upt/1/mr", all=1, results=1, MeterReading=[meter_reading]), *schemas)
    reading_set = sep2.ReadingSet(
        href="/upt/1/mr/1/rs/1",
        mRID=MRID,
        timePeriod=sep2.DateTimeInterval(duration=86_400, start=1_699_920_000),
        ReadingListLink=sep2.ListLink(href="/upt/1/mr/1/rs/1/r", all=288),
    )
    round_trip(sep2.ReadingSetList(all=1, results=1, ReadingSet=[reading_set]), *schemas)
    readings = sep2.ReadingList(
        all=1, results=1, Reading=[sep2.Reading(href="/upt/1/mr/1/rs/1/r/0", localID="00", value=12)]
    )
    round_trip(readings, *schemas)
