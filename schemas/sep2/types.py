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
