"""Issuing certificates of the IEEE 2030.5-2018 Manufacturing PKI (clause 6.11) and a development PKI.

Every certificate made here follows the profile of 6.11.8 as this module reads it:

* X.509 v3, ECDSA on P-256 (secp256r1) keys, signed with ecdsa-with-SHA256;
* notBefore is the time of issuance, notAfter the GeneralizedTime 99991231235959Z (no expiry);
* positive random serial numbers (159 bits, RFC 5280 4.1.2.2);
* CAs (SERCA, MCA, MICA): a subject DN, critical basicConstraints cA=TRUE with a path length that fits
  the SERCA -> [MCA ->] MICA -> device hierarchy of 6.11.1/6.11.2, critical keyUsage keyCertSign+cRLSign,
  subjectKeyIdentifier, authorityKeyIdentifier (not on the self-signed SERCA), critical certificatePolicies;
* device certificates (clients and the server alike): an EMPTY subject, a critical subjectAltName holding
  exactly one otherName HardwareModuleName (RFC 4108, 6.11.7.4), critical keyUsage
  digitalSignature+keyAgreement, critical basicConstraints cA=FALSE, critical certificatePolicies with the
  device type (6.11.7.2) and any additional policies (6.11.7.3), and an authorityKeyIdentifier;
* no extendedKeyUsage and no DNS/IP names: 2030.5 peers identify each other by LFDI, not host names.

Where the profile text leaves a value to the PKI operator (CA subjects, the policy set of CA certificates,
path lengths) the choices are documented on the functions below.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

from .identity import load_certificates
from .profile import (
    ANY_POLICY,
    DEVELOPMENT_HW_TYPE,
    HARDWARE_MODULE_NAME_OID,
    NOT_AFTER,
    POLICY_DEVICE_GENERIC,
    POLICY_SELF_SIGNED,
    POLICY_SERVICE_PROVIDER,
    POLICY_TEST,
    encode_hardware_module_name,
)

PrivateKey = ec.EllipticCurvePrivateKey
PublicKey = ec.EllipticCurvePublicKey

DEVELOPMENT_DEVICE_POLICIES = (POLICY_DEVICE_GENERIC, POLICY_TEST)
"""Policies of development device certificates: generic device type, and a *test* certificate (6.11.1)."""
SERVER_POLICIES = (POLICY_DEVICE_GENERIC, POLICY_SERVICE_PROVIDER)
"""Default policies of a server certificate: a generic device that is a server / service provider."""
CA_POLICIES = (ANY_POLICY,)
"""Default policies of CA certificates: anyPolicy, so every 2030.5 end-entity policy validates below them."""

SERCA_PATH_LENGTH = 2
"""SERCA -> MCA -> MICA -> device has two intermediates below the root."""

_DEVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, eq=False)
class Issued:
    """A certificate and, when this process generated it, its private key (equal when both are)."""

    cert: x509.Certificate
    key: PrivateKey | None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Issued):
            return NotImplemented
        if (self.key is None) != (other.key is None):
            return False
        same_key = self.key is None or (
            other.key is not None
            and self.key.private_numbers().private_value == other.key.private_numbers().private_value
        )
        return self.cert == other.cert and same_key

    def __hash__(self) -> int:
        return hash(self.cert)

    def cert_pem(self) -> bytes:
        """The certificate alone, PEM-encoded."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM; ``ValueError`` when the key is not held here."""
        if self.key is None:
            raise ValueError("this certificate was issued for an external public key; no private key here")
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def der(self) -> bytes:
        """The certificate in DER (what the LFDI of 6.3.4 hashes)."""
        return self.cert.public_bytes(serialization.Encoding.DER)


def generate_key() -> PrivateKey:
    """A fresh ECDSA P-256 private key, the only key type of the profile (6.11.8)."""
    return ec.generate_private_key(ec.SECP256R1())


def _check_public_key(public_key: object) -> PublicKey:
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
        raise ValueError("2030.5 certificates carry ECDSA P-256 (secp256r1) public keys only")
    return public_key


def _name(common_name: str, organization: str | None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _policies(oids: Iterable[str]) -> x509.CertificatePolicies:
    infos = [x509.PolicyInformation(ObjectIdentifier(oid), None) for oid in oids]
    if not infos:
        raise ValueError("a 2030.5 certificate asserts at least one certificate policy")
    if len({info.policy_identifier for info in infos}) != len(infos):
        raise ValueError("a policy OID appears at most once in certificatePolicies (RFC 5280 4.2.1.4)")
    return x509.CertificatePolicies(infos)


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not ca,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _hardware_san(hw_type_oid: str, serial_number: bytes | str) -> x509.SubjectAlternativeName:
    serial = serial_number.encode() if isinstance(serial_number, str) else bytes(serial_number)
    if not serial:
        raise ValueError("hwSerialNum must not be empty")
    value = encode_hardware_module_name(hw_type_oid, serial)
    return x509.SubjectAlternativeName([x509.OtherName(ObjectIdentifier(HARDWARE_MODULE_NAME_OID), value)])


def _base(subject: x509.Name, issuer: x509.Name, public_key: PublicKey) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC).replace(microsecond=0))
        .not_valid_after(NOT_AFTER)
    )


def _signer(issuer: Issued) -> PrivateKey:
    if issuer.key is None:
        raise ValueError("the issuing CA's private key is needed to sign")
    try:
        constraints = issuer.cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise ValueError("the issuer is not a CA certificate (basicConstraints cA=TRUE)")
    return issuer.key


def _path_length(issuer: Issued) -> int | None:
    return issuer.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length


def _authority_key_id(issuer: Issued) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(_check_public_key(issuer.cert.public_key()))
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _issue_ca(
    issuer: Issued | None,
    *,
    common_name: str,
    organization: str | None,
    path_length: int | None,
    policies: Sequence[str],
    key: PrivateKey | None,
) -> Issued:
    key = key or generate_key()
    public_key = _check_public_key(key.public_key())
    subject = _name(common_name, organization)
    builder = (
        _base(subject, issuer.cert.subject if issuer else subject, public_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_policies(policies), critical=True)
    )
    if issuer is not None:
        builder = builder.add_extension(_authority_key_id(issuer), critical=False)
    signer = _signer(issuer) if issuer is not None else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def create_serca(
    *,
    common_name: str = "gridhan development SERCA",
    organization: str | None = "gridhan development",
    policies: Sequence[str] = CA_POLICIES,
    path_length: int | None = SERCA_PATH_LENGTH,
    key: PrivateKey | None = None,
) -> Issued:
    """A self-signed Smart Energy Root CA (6.11.2): the trust anchor of a Manufacturing PKI.

    No authorityKeyIdentifier (self-signed, RFC 5280 4.2.1.1). Path length 2 allows SERCA -> MCA -> MICA
    -> device; pass ``None`` for no constraint.
    """
    return _issue_ca(
        None,
        common_name=common_name,
        organization=organization,
        path_length=path_length,
        policies=policies,
        key=key,
    )


def create_mca(
    serca: Issued,
    *,
    common_name: str = "gridhan development MCA",
    organization: str | None = "gridhan development",
    policies: Sequence[str] = CA_POLICIES,
    key: PrivateKey | None = None,
) -> Issued:
    """A Manufacturer CA issued by the SERCA (6.11.2): it only issues MICAs, so its path length is 1."""
    _signer(serca)
    if serca.cert.issuer != serca.cert.subject:
        raise ValueError("an MCA is issued by a SERCA (a self-signed root)")
    return _issue_ca(
        serca, common_name=common_name, organization=organization, path_length=1, policies=policies, key=key
    )


def create_mica(
    issuer: Issued,
    *,
    common_name: str = "gridhan development MICA",
    organization: str | None = "gridhan development",
    policies: Sequence[str] = CA_POLICIES,
    key: PrivateKey | None = None,
) -> Issued:
    """A Manufacturer Issuing CA, issued by a SERCA or an MCA (6.11.2); it issues end entities (pathLen 0)."""
    _signer(issuer)
    if _path_length(issuer) == 0:
        raise ValueError("the issuer's pathLenConstraint is 0: it cannot issue another CA")
    return _issue_ca(
        issuer, common_name=common_name, organization=organization, path_length=0, policies=policies, key=key
    )


def _issue_end_entity(
    issuer: Issued | None,
    *,
    subject: x509.Name,
    hw_type_oid: str | None,
    serial_number: bytes | str | None,
    policies: Sequence[str],
    key: PrivateKey | None,
    public_key: PublicKey | None,
) -> Issued:
    if public_key is not None and key is not None:
        raise ValueError("give either a private key or a public key, not both")
    if public_key is None:
        key = key or generate_key()
        public_key = key.public_key()
    public_key = _check_public_key(public_key)
    builder = (
        _base(subject, issuer.cert.subject if issuer else subject, public_key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(_policies(policies), critical=True)
    )
    if hw_type_oid is not None or serial_number is not None:
        if hw_type_oid is None or serial_number is None:
            raise ValueError("a HardwareModuleName needs both hw_type_oid and serial_number")
        builder = builder.add_extension(_hardware_san(hw_type_oid, serial_number), critical=True)
    if issuer is not None:
        builder = builder.add_extension(_authority_key_id(issuer), critical=False)
        signer = _signer(issuer)
    else:
        if key is None:
            raise ValueError("a self-signed certificate needs its own private key")
        signer = key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def create_device_certificate(
    mica: Issued,
    *,
    hw_type_oid: str,
    serial_number: bytes | str,
    policies: Sequence[str],
    public_key: PublicKey | None = None,
    key: PrivateKey | None = None,
) -> Issued:
    """A Manufacturing PKI device certificate (6.11.8) issued by ``mica``.

    The subject is empty; the device is named by the critical subjectAltName otherName HardwareModuleName
    ``{hw_type_oid, serial_number}`` (6.11.7.4; a ``str`` serial is UTF-8 encoded). ``policies`` carries
    one device-type policy (6.11.7.2) plus any additional policy (6.11.7.3). With ``public_key`` the
    certificate is issued for an externally held key and :attr:`Issued.key` is ``None``; otherwise a key is
    generated (or ``key`` is used).
    """
    if not hw_type_oid or serial_number in (b"", ""):
        raise ValueError("a device certificate needs hw_type_oid and serial_number")
    return _issue_end_entity(
        mica,
        subject=x509.Name([]),
        hw_type_oid=hw_type_oid,
        serial_number=serial_number,
        policies=policies,
        key=key,
        public_key=public_key,
    )


def create_server_certificate(
    mica_or_issuer: Issued,
    *,
    hw_type_oid: str = DEVELOPMENT_HW_TYPE,
    serial_number: bytes | str = "server",
    policies: Sequence[str] = SERVER_POLICIES,
    public_key: PublicKey | None = None,
    key: PrivateKey | None = None,
) -> Issued:
    """A 2030.5 server's certificate: a device certificate like any other (6.11.8), usable for TLS.

    The server is identified by its LFDI like every device, and 2030.5 clients do not check host names, so
    no DNS or IP subjectAltName is added: the profile's subjectAltName holds the HardwareModuleName only.
    OpenSSL accepts it for TLS server use: keyUsage has digitalSignature (ECDSA signing of the ECDHE
    exchange) and there is no extendedKeyUsage to restrict it.
    """
    return create_device_certificate(
        mica_or_issuer,
        hw_type_oid=hw_type_oid,
        serial_number=serial_number,
        policies=policies,
        public_key=public_key,
        key=key,
    )


def create_self_signed_device_certificate(
    *,
    common_name: str,
    hw_type_oid: str | None = None,
    serial_number: bytes | str | None = None,
    policies: Sequence[str] = (POLICY_SELF_SIGNED,),
    key: PrivateKey | None = None,
) -> Issued:
    """A self-signed client certificate (6.11.1 / 6.11.7.3 id-sep2 self-signed policy).

    It chains to no SERCA: a server trusts it only after it is registered out of band (by its LFDI or the
    certificate itself). Same algorithms, validity and end-entity extensions as a device certificate;
    because issuer = subject and RFC 5280 4.1.2.4 forbids an empty issuer, the subject is ``CN=common_name``
    instead of empty. A HardwareModuleName is added when ``hw_type_oid`` and ``serial_number`` are given.
    """
    if not common_name:
        raise ValueError("a self-signed certificate needs a non-empty subject (it is also the issuer)")
    return _issue_end_entity(
        None,
        subject=_name(common_name, None),
        hw_type_oid=hw_type_oid,
        serial_number=serial_number,
        policies=policies,
        key=key,
        public_key=None,
    )


# --- the development PKI written to a directory ---------------------------------------------------


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    try:
        if private:
            os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def _read_issued(cert_path: Path, key_path: Path) -> Issued:
    cert = load_certificates(cert_path)[0]
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{key_path} does not hold an EC private key")
    return Issued(cert, key)


def _check_device_name(name: str) -> str:
    if not _DEVICE_NAME.match(name):
        raise ValueError(f"device names are 1-64 letters, digits, '.', '_' or '-' (got {name!r})")
    return name


@dataclass(frozen=True)
class DevelopmentPki:
    """A complete 2030.5 development PKI in a directory (PEM files, keys unencrypted with mode 0600).

    Layout: ``serca.pem``/``serca.key`` (trust anchor), ``mca.pem``/``mca.key`` (when an MCA is used),
    ``mica.pem``/``mica.key``, ``server.pem`` (server certificate followed by MICA and MCA, never the
    root) with ``server.key``, and ``devices/<name>.pem`` (device certificate + the same chain; a
    self-signed certificate alone) with ``devices/<name>.key``. Device certificates are *test*
    certificates (:data:`DEVELOPMENT_DEVICE_POLICIES`).
    """

    directory: Path
    serca: Issued
    mca: Issued | None
    mica: Issued
    server: Issued

    @property
    def trust_anchor_path(self) -> Path:
        """``serca.pem``: the file a 2030.5 peer trusts."""
        return self.directory / "serca.pem"

    @property
    def server_cert_path(self) -> Path:
        return self.directory / "server.pem"

    @property
    def server_key_path(self) -> Path:
        return self.directory / "server.key"

    @property
    def devices_directory(self) -> Path:
        return self.directory / "devices"

    def device_cert_path(self, name: str) -> Path:
        return self.devices_directory / f"{_check_device_name(name)}.pem"

    def device_key_path(self, name: str) -> Path:
        return self.devices_directory / f"{_check_device_name(name)}.key"

    def device_names(self) -> list[str]:
        """Names of the devices issued so far, sorted."""
        if not self.devices_directory.is_dir():
            return []
        return sorted(p.stem for p in self.devices_directory.glob("*.pem"))

    def chain(self) -> list[x509.Certificate]:
        """The intermediates sent after an end-entity certificate: MICA, then MCA (never the SERCA)."""
        return [self.mica.cert] + ([self.mca.cert] if self.mca else [])

    def _chain_pem(self) -> bytes:
        return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in self.chain())

    @staticmethod
    def exists(directory: Path) -> bool:
        """True when ``directory`` already holds a development PKI (its ``serca.pem``)."""
        return (Path(directory) / "serca.pem").is_file()

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        with_mca: bool = True,
        devices: Sequence[str] = (),
        self_signed: Sequence[str] = (),
        exist_ok: bool = False,
    ) -> DevelopmentPki:
        """Create the PKI in ``directory`` (made if missing) with the named devices.

        ``FileExistsError`` when the directory already holds a PKI, unless ``exist_ok``: then the PKI is
        loaded as it is (``with_mca`` is ignored) and only the requested devices it lacks are issued.
        """
        directory = Path(directory)
        for name in (*devices, *self_signed):
            _check_device_name(name)
        if len(set(devices) | set(self_signed)) != len(devices) + len(self_signed):
            raise ValueError("device names must be unique")
        if cls.exists(directory):
            if not exist_ok:
                raise FileExistsError(f"{directory} already holds a development PKI (serca.pem)")
            pki = cls.load(directory)
        else:
            directory.mkdir(parents=True, exist_ok=True)
            serca = create_serca()
            mca = create_mca(serca) if with_mca else None
            mica = create_mica(mca or serca)
            server = create_server_certificate(mica)
            pki = cls(directory, serca, mca, mica, server)
            _write(directory / "serca.key", serca.key_pem(), private=True)
            if mca is not None:
                _write(directory / "mca.pem", mca.cert_pem())
                _write(directory / "mca.key", mca.key_pem(), private=True)
            _write(directory / "mica.pem", mica.cert_pem())
            _write(directory / "mica.key", mica.key_pem(), private=True)
            _write(pki.server_cert_path, server.cert_pem() + pki._chain_pem())
            _write(pki.server_key_path, server.key_pem(), private=True)
            _write(pki.trust_anchor_path, serca.cert_pem())  # last: marks the PKI as complete
        for name in devices:
            if not pki.device_cert_path(name).exists():
                pki.issue_device(name)
        for name in self_signed:
            if not pki.device_cert_path(name).exists():
                pki.issue_device(name, self_signed=True)
        return pki

    @classmethod
    def load(cls, directory: Path) -> DevelopmentPki:
        """Read a PKI written by :meth:`create` (``FileNotFoundError`` naming a missing file)."""
        directory = Path(directory)
        serca = _read_issued(directory / "serca.pem", directory / "serca.key")
        mca = _read_issued(directory / "mca.pem", directory / "mca.key") if (directory / "mca.pem").exists() else None
        mica = _read_issued(directory / "mica.pem", directory / "mica.key")
        server = _read_issued(directory / "server.pem", directory / "server.key")
        return cls(directory, serca, mca, mica, server)

    def issue_device(
        self,
        name: str,
        *,
        self_signed: bool = False,
        hw_type_oid: str = DEVELOPMENT_HW_TYPE,
        serial_number: bytes | str | None = None,
        policies: Sequence[str] | None = None,
    ) -> Path:
        """Issue a device certificate (by the MICA, or self-signed) and write it; returns its PEM path.

        The hwSerialNum defaults to the device name. ``FileExistsError`` if the device exists already.
        """
        cert_path, key_path = self.device_cert_path(name), self.device_key_path(name)
        if cert_path.exists() or key_path.exists():
            raise FileExistsError(f"device {name!r} already exists in {self.devices_directory}")
        serial = name if serial_number is None else serial_number
        if self_signed:
            issued = create_self_signed_device_certificate(
                common_name=name,
                hw_type_oid=hw_type_oid,
                serial_number=serial,
                policies=policies or (POLICY_SELF_SIGNED,),
            )
            pem = issued.cert_pem()
        else:
            issued = create_device_certificate(
                self.mica,
                hw_type_oid=hw_type_oid,
                serial_number=serial,
                policies=policies or DEVELOPMENT_DEVICE_POLICIES,
            )
            pem = issued.cert_pem() + self._chain_pem()
        self.devices_directory.mkdir(exist_ok=True)
        _write(key_path, issued.key_pem(), private=True)
        _write(cert_path, pem)
        return cert_path
