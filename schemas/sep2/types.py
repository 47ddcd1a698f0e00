"""Simple types of the IEEE 2030.5-2018 schema (clause B / sep.xsd "Primitive types")."""

from gridhan.schemas.xmlcodec import AnyUriType, BoolType, HexBinaryType, IntType, StringType

UInt8 = IntType("UInt8", 0, 2**8 - 1)
UInt16 = IntType("UInt16", 0, 2**16 - 1)
UInt32 = IntType("UInt32", 0, 2**32 - 1)
UInt40 = IntType("UInt40", 0, 2**40 - 1)
UInt48 = IntType("UInt48", 0, 2**48 - 1)
UInt64 = IntType("UInt64", 0, 2**64 - 1)
Int8 = IntType("Int8", -(2**7), 2**7 - 1)
Int16 = IntType("Int16", -(2**15), 2**15 - 1)
Int32 = IntType("Int32", -(2**31), 2**31 - 1)
Int48 = IntType("Int48", -(2**47), 2**47 - 1)
Int64 = IntType("Int64", -(2**63), 2**63 - 1)
Boolean = BoolType()
AnyURI = AnyUriType()

HexBinary8 = HexBinaryType("HexBinary8", 1)
HexBinary16 = HexBinaryType("HexBinary16", 2)
HexBinary32 = HexBinaryType("HexBinary32", 4)
HexBinary48 = HexBinaryType("HexBinary48", 6)
HexBinary64 = HexBinaryType("HexBinary64", 8)
HexBinary128 = HexBinaryType("HexBinary128", 16)
HexBinary160 = HexBinaryType("HexBinary160", 20)

String6 = StringType("String6", 6)
String16 = StringType("String16", 16)
String20 = StringType("String20", 20)
String32 = StringType("String32", 32)
String42 = StringType("String42", 42)
String64 = StringType("String64", 64)
String192 = StringType("String192", 192)
LocaleType = StringType("LocaleType", 42)

#: Seconds since the POSIX epoch (clause 6.5.2 on TimeType).
TimeType = IntType("TimeType", -(2**63), 2**63 - 1)
TimeOffsetType = IntType("TimeOffsetType", -(2**31), 2**31 - 1)
mRIDType = HexBinaryType("mRIDType", 16)
VersionType = IntType("VersionType", 0, 2**16 - 1)
PENType = IntType("PENType", 0, 2**32 - 1)
#: 36-bit short-form device identifier followed by its check digit (6.3.4): at most 12 decimal digits.
SFDIType = IntType("SFDIType", 0, 687_194_767_359)
PINType = IntType("PINType", 0, 999_999)
PerCent = IntType("PerCent", 0, 10_000)
PowerOfTenMultiplierType = IntType("PowerOfTenMultiplierType", -9, 9)
#: 0 none, 1 mains, 2 battery, 3 local generation, 4 emergency, 5 unknown.
PowerSourceType = IntType("PowerSourceType", 0, 5)
#: 0 resource does not support subscriptions, 1 non-conditional, 2 conditional, 3 both.
SubscribableType = IntType("SubscribableType", 0, 3)
DeviceCategoryType = HexBinaryType("DeviceCategoryType", 4)

# --- Event, DER, Response, Pub/Sub and Metering types ------------------------------------------------
# The schema derives these from plain integer types without facets; the ranges and enumerated values
# below are the ones clause text and type notes of the standard define ("all other values reserved").

#: Hundredths of a percent, -10000..10000 (100 % = 10000).
SignedPerCent = IntType("SignedPerCent", -10_000, 10_000)
#: Seconds, -3600..3600 (randomization of an event's start and duration).
OneHourRangeType = IntType("OneHourRangeType", -3600, 3600)
#: Priority of a program's provider: lower is more important (0 in-home EMS, 1 contracted provider, 2
#: non-contractual provider, 65..191 user-defined, the rest reserved; the full octet is accepted).
PrimacyType = IntType("PrimacyType", 0, 255)
#: 0 scheduled, 1 active, 2 cancelled, 3 cancelled with randomization, 4 superseded.
EventStatusType = IntType("EventStatusType", 0, 4)
#: Bit field: 0 message received, 1 specific response, 2 user response required.
ResponseRequiredType = HexBinaryType("ResponseRequiredType", 1)

#: DER kind: 0 n/a, 1 virtual or mixed, 2 reciprocating engine, 3 fuel cell, 4 PV, 5 CHP, 6 other
#: generation, 80 other storage, 81 EV, 82 EVSE, 83 PV with storage.
DERType = IntType("DERType", 0, 83, allowed=frozenset({0, 1, 2, 3, 4, 5, 6, 80, 81, 82, 83}))
#: Bit field of the DER control modes (bit 0 charge, 1 discharge, 2 opModConnect ... 26).
DERControlType = HexBinaryType("DERControlType", 4)
#: Which mode a curve serves: 0 opModFreqWatt ... 14 opModWattVar (the opMod curve links, in name order).
DERCurveType = IntType("DERCurveType", 0, 14)
#: What a percentage refers to: 0 n/a, 1 setMaxW, 2 setMaxVar, 3 statVarAvail, 4 setEffectiveV,
#: 5 setMaxChargeRateW, 6 setMaxDischargeRateW, 7 statWAvail.
DERUnitRefType = IntType("DERUnitRefType", 0, 7)
#: IEEE 1547-2018 normal performance category: 0 unspecified, 1 A, 2 B.
NormalCategoryType = IntType("NormalCategoryType", 0, 2)
#: IEEE 1547-2018 abnormal performance category: 0 unspecified, 1 I, 2 II, 3 III.
AbnormalCategoryType = IntType("AbnormalCategoryType", 0, 3)
#: Bit field: 0 connected, 1 available, 2 operating, 3 test, 4 fault.
ConnectStatusValue = HexBinaryType("ConnectStatusValue", 1)
#: 0 n/a, 1 off, 2 sleeping, 3 starting, 4 MPPT, 5 derating, 6 shutting down, 7 fault, 8 standby,
#: 9 test, 10 see manufacturer status.
InverterStatusValue = IntType("InverterStatusValue", 0, 10)
#: 0 local control, 1 remote control.
LocalControlModeStatusValue = IntType("LocalControlModeStatusValue", 0, 1)
#: 0 n/a, 1 off, 2 operational, 3 test.
OperationalModeStatusValue = IntType("OperationalModeStatusValue", 0, 3)
#: 0 charging, 1 discharging, 2 holding.
StorageModeStatusValue = IntType("StorageModeStatusValue", 0, 2)

#: Subscription encoding: 0 application/sep+xml, 1 application/sep-exi.
SubscriptionEncodingType = IntType("SubscriptionEncodingType", 0, 1)
#: Notification status: 0 default, 1 cancelled, 2 resource moved, 3 definition changed, 4 deleted.
NotificationStatusType = IntType("NotificationStatusType", 0, 4)
#: Condition attribute: 0 reading value.
ConditionAttributeType = IntType("ConditionAttributeType", 0, 0)
#: 0 delay appliance load, 1 temporary appliance load reduction.
ApplianceLoadReductionType = IntType("ApplianceLoadReductionType", 0, 1)
#: Target reduction unit: 0 kWh, 1 kW, 2 W, 3 m3, 4 ft3, 5 US gal, 6 imp gal, 7 BTU, 8 l, 9 kPa gauge,
#: 10 kPa absolute, 11 MJ, 12 unitless.
UnitType = IntType("UnitType", 0, 12)

#: Bit field of usage point roles: 0 mirror, 1 premises aggregation point, 2 PEV, 3 DER, 4 revenue
#: quality, 5 DC, 6 submeter.
RoleFlagsType = HexBinaryType("RoleFlagsType", 2)
#: 0 electricity, 1 gas, 2 water, 3 time, 4 pressure, 5 heat, 6 cooling.
ServiceKind = IntType("ServiceKind", 0, 6)
#: Usage point status: 0 off, 1 on.
UsagePointStatusType = IntType("UsagePointStatusType", 0, 1)
AccumulationBehaviourType = IntType("AccumulationBehaviourType", 0, 12, allowed=frozenset({0, 3, 4, 6, 9, 12}))
CommodityType = IntType("CommodityType", 0, 13, allowed=frozenset({0, 1, 2, 4, 7, 8, 9, 10, 11, 12, 13}))
DataQualifierType = IntType("DataQualifierType", 0, 30, allowed=frozenset({0, 2, 8, 9, 12, 29, 30}))
#: 0 n/a, 1 forward (delivered to the customer), 19 reverse (received from the customer).
FlowDirectionType = IntType("FlowDirectionType", 0, 19, allowed=frozenset({0, 1, 19}))
#: 0 n/a, 3 currency, 8 demand, 12 energy, 37 power.
KindType = IntType("KindType", 0, 37, allowed=frozenset({0, 3, 8, 12, 37}))
PhaseCode = IntType("PhaseCode", 0, 224, allowed=frozenset({0, 32, 33, 40, 64, 65, 66, 128, 129, 132, 224}))
#: Unit of measure (IEC 61968-9 codes; the standard recommends a list but allows any other code).
UomType = IntType("UomType", 0, 255)
#: 0 n/a, 1..16 consumption block.
ConsumptionBlockType = IntType("ConsumptionBlockType", 0, 16)
#: 0 n/a, 1..15 TOU tier A..O.
TOUType = IntType("TOUType", 0, 15)

# --- DRLC, Pricing, Messaging, Billing, Prepayment, Flow Reservation and File types -------------------

#: Unbounded text (xs:string), e.g. a TextMessage's text.
String = StringType("string", None)
#: ISO 4217 numeric currency code (0 n/a, 36 AUD, 124 CAD, 840 USD, 978 EUR ...; the list is open).
CurrencyCode = IntType("CurrencyCode", 0, 2**16 - 1)
#: Environmental cost kind: 0 CO2, 1 SO2, 2 NOx (grams per unit), 3 renewable share of generation.
CostKindType = IntType("CostKindType", 0, 3)
#: Text message priority: 0 low, 1 normal, 2 high, 3 critical.
PriorityType = IntType("PriorityType", 0, 3)
#: Billing charge kind: 0 consumption, 1 rebate, 2 auxiliary, 3 demand, 4 tax.
ChargeKind = IntType("ChargeKind", 0, 4)
#: Prepayment mode: 0 central wallet, 1 ESI, 2 local, 3 credit.
PrepayModeType = IntType("PrepayModeType", 0, 3)
#: 0 credit ok, 1 low, 2 exhausted, 3 negative.
CreditStatusType = IntType("CreditStatusType", 0, 3)
#: 0 regular, 1 emergency, 2 regular then emergency, 3 emergency then regular.
CreditTypeType = IntType("CreditTypeType", 0, 3)
#: Supply: 0 connected, 1 disconnected, 2 armed for connect, 3 armed for disconnect, 4 no contactor,
#: 5 load limited.
ServiceStatusType = IntType("ServiceStatusType", 0, 5)
#: Flow reservation request status: 0 requested, 1 cancelled.
RequestStatusType = IntType("RequestStatusType", 0, 1)
#: File load status: 0 idle, 1 loading, 2 load failed, 3 loaded (verifying signature), 4 signature failed,
#: 5 verified (awaiting activation), 6 activation failed, 7 activating, 8 activated.
FileStatusValue = IntType("FileStatusValue", 0, 8)
#: Per cent of a file loaded in the latest attempt (a UInt8 in the schema, 0..100 by its meaning).
LoadPercent = IntType("LoadPercent", 0, 100)
