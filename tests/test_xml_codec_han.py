"""Realistic documents of the home-area function sets (Demand Response and Load Control, Pricing,
Messaging, Billing, Prepayment, Flow Reservation, File Download), held against the official schemas and
read back; strict reading refuses reserved values and elements out of schema order."""

from __future__ import annotations

import pytest

from gridhan.schemas import sep2
from gridhan.schemas.xmlcodec import XmlDecodeError, XmlResource, decode, encode

LFDI = "3E4F45AB31EDFE5B67E343E5E4562E31984E23E5"
START = 1_700_006_400  # an hour boundary
HOUR = 3600


def round_trip(obj: XmlResource, validators) -> bytes:
    document = encode(obj)
    for validator in validators:
        assert validator.errors(document) == [], document
    assert decode(document, type(obj)) == obj
    return document


def event_status(status: int = 0) -> sep2.EventStatus:
    return sep2.EventStatus(currentStatus=status, dateTime=START - HOUR, potentiallySuperseded=False)


def critical_peak_control() -> sep2.EndDeviceControl:
    """Critical peak, 14:00-18:00: thermostats raise their cooling set point by 1.1 °C (2 °F); starts spread over
    up to 5 minutes; participation is voluntary."""
    return sep2.EndDeviceControl(
        href="/drp/1/edc/7",
        replyTo="/rsps/1/rsp",
        responseRequired="03",
        subscribable=0,
        mRID="0000000000000000000000000000CA07",
        description="Critical peak",
        version=0,
        creationTime=START - 86_400,
        EventStatus=event_status(),
        interval=sep2.DateTimeInterval(duration=4 * HOUR, start=START),
        randomizeStart=300,
        deviceCategory="00000001",  # bit 0: programmable communicating thermostats
        drProgramMandatory=False,
        loadShiftForward=False,
        Offset=sep2.Offset(coolingOffset=11),  # tenths of a degree C
        overrideDuration=1800,
    )


def test_critical_peak_end_device_control(sep_schemas):
    control = critical_peak_control()
    document = round_trip(control, sep_schemas)
    assert b"<Offset><coolingOffset>11</coolingOffset></Offset>" in document
    assert b"<randomizeStart>300</randomizeStart>" in document
    listing = sep2.EndDeviceControlList(href="/drp/1/actedc", all=1, results=1, EndDeviceControl=[control])
    round_trip(listing, sep_schemas)


def test_program_with_duty_cycle_and_target_reduction_and_load_shed_availability(sep_schemas):
    program = sep2.DemandResponseProgram(
        href="/drp/1",
        mRID="0000000000000000000000000000D001",
        description="Summer saver",
        primacy=1,
        ActiveEndDeviceControlListLink=sep2.ListLink(href="/drp/1/actedc", all=1),
        availabilityUpdatePercentChangeThreshold=1000,
        availabilityUpdatePowerChangeThreshold=sep2.ActivePower(multiplier=3, value=1),
        EndDeviceControlListLink=sep2.ListLink(href="/drp/1/edc", all=3),
    )
    round_trip(
        sep2.DemandResponseProgramList(all=1, results=1, pollRate=300, DemandResponseProgram=[program]), sep_schemas
    )
    control = critical_peak_control()
    control.Offset = None
    control.DutyCycle = sep2.DutyCycle(normalValue=50)
    control.TargetReduction = sep2.TargetReduction(type=1, value=2)  # 2 kW
    round_trip(control, sep_schemas)
    availability = sep2.LoadShedAvailability(
        href="/edev/3/lsa/1",
        availabilityDuration=2 * HOUR,
        DemandResponseProgramLink=sep2.Link(href="/drp/1"),
        sheddablePercent=4000,
        sheddablePower=sep2.ActivePower(multiplier=2, value=15),
    )
    round_trip(sep2.LoadShedAvailabilityList(all=1, results=1, LoadShedAvailability=[availability]), sep_schemas)


def test_day_of_hourly_time_tariff_intervals(sep_schemas):
    intervals = [
        sep2.TimeTariffInterval(
            href=f"/tp/1/rc/1/tti/{hour}",
            mRID=f"{hour + 1:032X}",
            creationTime=START - 86_400,
            EventStatus=event_status(),
            interval=sep2.DateTimeInterval(duration=HOUR, start=START + hour * HOUR),
            touTier=3 if 16 <= hour < 21 else 1,
            ConsumptionTariffIntervalListLink=sep2.ListLink(href=f"/tp/1/rc/1/tti/{hour}/cti", all=1),
        )
        for hour in range(24)
    ]
    listing = sep2.TimeTariffIntervalList(href="/tp/1/rc/1/tti", all=24, results=24, TimeTariffInterval=intervals)
    document = round_trip(listing, sep_schemas)
    assert document.count(b"</TimeTariffInterval>") == 24
    assert decode(document, sep2.TimeTariffIntervalList).TimeTariffInterval[17].touTier == 3
    profile = sep2.TariffProfile(
        href="/tp/1",
        mRID="0000000000000000000000000000AA01",
        description="Residential TOU",
        currency=840,
        pricePowerOfTenMultiplier=-5,
        primacy=1,
        rateCode="TOU-D",
        RateComponentListLink=sep2.ListLink(href="/tp/1/rc", all=1),
        serviceCategoryKind=0,
    )
    round_trip(sep2.TariffProfileList(all=1, results=1, pollRate=900, TariffProfile=[profile]), sep_schemas)
    component = sep2.RateComponent(
        href="/tp/1/rc/1",
        mRID="0000000000000000000000000000AB01",
        ActiveTimeTariffIntervalListLink=sep2.ListLink(href="/tp/1/rc/1/acttti", all=1),
        ReadingTypeLink=sep2.Link(href="/upt/1/mr/1/rt"),
        roleFlags="0001",
        TimeTariffIntervalListLink=sep2.ListLink(href="/tp/1/rc/1/tti", all=24),
    )
    round_trip(sep2.RateComponentList(all=1, results=1, RateComponent=[component]), sep_schemas)


def test_block_pricing_consumption_tariff_intervals(sep_schemas):
    # Three blocks, priced in 10^-5 $/Wh: first 10 kWh, next 20 kWh, the rest; the top one is also dirtier.
    blocks = [
        sep2.ConsumptionTariffInterval(href="/tp/1/rc/1/tti/0/cti/1", consumptionBlock=1, price=1200, startValue=0),
        sep2.ConsumptionTariffInterval(
            href="/tp/1/rc/1/tti/0/cti/2", consumptionBlock=2, price=1500, startValue=10_000
        ),
        sep2.ConsumptionTariffInterval(
            href="/tp/1/rc/1/tti/0/cti/3",
            consumptionBlock=3,
            EnvironmentalCost=[
                sep2.EnvironmentalCost(amount=450, costKind=0, costLevel=2, numCostLevels=3),
                sep2.EnvironmentalCost(amount=20, costKind=3, costLevel=0, numCostLevels=3),
            ],
            price=2100,
            startValue=30_000,
        ),
    ]
    listing = sep2.ConsumptionTariffIntervalList(
        href="/tp/1/rc/1/tti/0/cti", all=3, results=3, ConsumptionTariffInterval=blocks
    )
    document = round_trip(listing, sep_schemas)
    assert b"<consumptionBlock>3</consumptionBlock><EnvironmentalCost><amount>450</amount>" in document


def test_text_message_with_priority(sep_schemas):
    message = sep2.TextMessage(
        href="/msg/1/txt/4",
        replyTo="/rsps/2/rsp",
        responseRequired="01",
        mRID="0000000000000000000000000000BE04",
        creationTime=START - HOUR,
        EventStatus=event_status(1),
        interval=sep2.DateTimeInterval(duration=2 * HOUR, start=START),
        originator="City Power",
        priority=3,
        textMessage="Critical peak 2 pm to 6 pm today: please reduce use <& save>.",
    )
    document = round_trip(sep2.TextMessageList(all=1, results=1, TextMessage=[message]), sep_schemas)
    assert b"&lt;&amp; save&gt;" in document
    program = sep2.MessagingProgram(
        href="/msg/1",
        mRID="0000000000000000000000000000BE00",
        ActiveTextMessageListLink=sep2.ListLink(href="/msg/1/acttxt", all=1),
        locale="en-US",
        primacy=1,
        TextMessageListLink=sep2.ListLink(href="/msg/1/txt", all=4),
    )
    round_trip(sep2.MessagingProgramList(all=1, results=1, MessagingProgram=[program]), sep_schemas)


def test_file_with_hash_and_activate_time_and_its_status(sep_schemas):
    image = sep2.File(
        href="/file/12",
        activateTime=START + 2 * HOUR,
        fileURI="https://files.example.com/fw/tstat-2.4.1.bin?sha256=9f86d081884c7d659a2feaa0c55ad015",
        lFDI=LFDI,
        mfHwVer="rev C",
        mfID=37244,
        mfModel="TSTAT-9",
        mfVer="2.4.1",
        size=1_048_576,
        type="0000",
    )
    document = round_trip(sep2.FileList(all=1, results=1, pollRate=3600, File=[image]), sep_schemas)
    assert b"<activateTime>1700013600</activateTime>" in document
    status = sep2.FileStatus(
        href="/edev/3/fs",
        activateTime=image.activateTime,
        FileLink=sep2.Link(href="/file/12"),
        loadPercent=100,
        nextRequestAttempt=START,
        request503Count=1,
        requestFailCount=0,
        status=5,
        statusTime=START - 60,
    )
    round_trip(status, sep_schemas)


def test_flow_reservation_request_and_response(sep_schemas):
    request = sep2.FlowReservationRequest(
        href="/edev/3/frq/1",
        mRID="68512866203DB3B10000E566",
        description="Charge overnight",
        creationTime=START,
        durationRequested=7371,
        energyRequested=sep2.SignedRealEnergy(multiplier=3, value=12),
        intervalRequested=sep2.DateTimeInterval(duration=8 * HOUR, start=START + 7 * HOUR),
        powerRequested=sep2.ActivePower(multiplier=3, value=7),
        RequestStatus=sep2.RequestStatus(dateTime=START, requestStatus=0),
    )
    round_trip(sep2.FlowReservationRequestList(all=1, results=1, FlowReservationRequest=[request]), sep_schemas)
    response = sep2.FlowReservationResponse(
        href="/edev/3/frp/1",
        mRID="0000000000000000000000000000F001",
        creationTime=START + 60,
        EventStatus=event_status(),
        interval=sep2.DateTimeInterval(duration=15_600, start=START + 8 * HOUR),
        energyAvailable=sep2.SignedRealEnergy(multiplier=3, value=12),
        powerAvailable=sep2.ActivePower(multiplier=3, value=3),
        subject=request.mRID,
    )
    round_trip(sep2.FlowReservationResponseList(all=1, results=1, FlowReservationResponse=[response]), sep_schemas)


def test_billing_and_prepayment_documents(sep_schemas):
    reading = sep2.BillingReading(
        timePeriod=sep2.DateTimeInterval(duration=86_400, start=START),
        touTier=1,
        value=12_345,
        Charge=[sep2.Charge(description="Energy", kind=0, value=1_851), sep2.Charge(kind=4, value=148)],
    )
    round_trip(sep2.BillingReadingList(all=1, results=1, BillingReading=[reading]), sep_schemas)
    period = sep2.BillingPeriod(billToDate=4_210, interval=sep2.DateTimeInterval(duration=30 * 86_400, start=START))
    round_trip(sep2.BillingPeriodList(all=1, results=1, BillingPeriod=[period]), sep_schemas)
    balance = sep2.AccountBalance(
        href="/ppy/1/ab",
        availableCredit=sep2.AccountingUnit(monetaryUnit=36, multiplier=-2, value=2_500),
        creditStatus=1,
    )
    round_trip(balance, sep_schemas)
    status = sep2.PrepayOperationStatus(serviceChange=sep2.ServiceChange(newStatus=3, startTime=START), serviceStatus=0)
    round_trip(status, sep_schemas)


# ---------------------------------------------------------------------------------------------------
# Strict reading
# ---------------------------------------------------------------------------------------------------


def test_reserved_priority_is_refused():
    message = sep2.TextMessage(
        mRID="0000000000000000000000000000BE04",
        creationTime=START,
        EventStatus=event_status(),
        interval=sep2.DateTimeInterval(duration=HOUR, start=START),
        priority=3,
        textMessage="x",
    )
    document = encode(message).replace(b"<priority>3</priority>", b"<priority>4</priority>")
    with pytest.raises(XmlDecodeError, match=r"TextMessage/priority: 4 is out of range"):
        decode(document, sep2.TextMessage)
    message.priority = 4
    with pytest.raises(ValueError, match="out of range for PriorityType"):
        encode(message)


def test_reserved_file_status_and_request_status_are_refused():
    document = encode(sep2.RequestStatus(dateTime=START, requestStatus=1)).replace(
        b"<requestStatus>1</requestStatus>", b"<requestStatus>2</requestStatus>"
    )
    with pytest.raises(XmlDecodeError, match=r"RequestStatus/requestStatus: 2 is out of range"):
        decode(document, sep2.RequestStatus)
    status = sep2.FileStatus(
        loadPercent=0, nextRequestAttempt=START, request503Count=0, requestFailCount=0, status=9, statusTime=START
    )
    with pytest.raises(ValueError, match="out of range for FileStatusValue"):
        encode(status)


def test_end_device_control_elements_out_of_order_are_refused():
    document = encode(critical_peak_control())
    swapped = document.replace(
        b"<drProgramMandatory>false</drProgramMandatory><loadShiftForward>false</loadShiftForward>",
        b"<loadShiftForward>false</loadShiftForward><drProgramMandatory>false</drProgramMandatory>",
    )
    assert swapped != document
    with pytest.raises(XmlDecodeError, match=r"EndDeviceControl/drProgramMandatory: element is out of schema order"):
        decode(swapped, sep2.EndDeviceControl)


def test_end_device_control_requires_its_device_category():
    document = encode(critical_peak_control()).replace(b"<deviceCategory>00000001</deviceCategory>", b"")
    with pytest.raises(XmlDecodeError, match="required element 'deviceCategory' is missing"):
        decode(document, sep2.EndDeviceControl)
