"""A self-signed TLS certificate for a test server on 127.0.0.1 (needs ``cryptography``, which
moto's server depends on).

The certificate is its own CA (``CA:TRUE``, key usage ``keyCertSign``), so the certificate file
doubles as the CA bundle a client passes as boto3's ``verify=``; a client with the default
trust store rejects it (``CERTIFICATE_VERIFY_FAILED``), as it would any self-signed endpoint.
"""

from __future__ import annotations

import datetime
import ipaddress
import os

__all__ = ["CERT_FILE", "KEY_FILE", "write_self_signed_certificate"]

#: File names :func:`write_self_signed_certificate` writes in its directory.
CERT_FILE, KEY_FILE = "tls-cert.pem", "tls-key.pem"
#: How long the certificate is valid from an hour ago (test servers live minutes).
_VALID = datetime.timedelta(days=2)


def write_self_signed_certificate(directory: str, host: str = "127.0.0.1") -> tuple[str, str]:
    """Write a new self-signed certificate for ``host`` (an IP address) and ``localhost``, and
    its private key, into ``directory``; return ``(cert_path, key_path)`` (PEM, key mode 0600).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"resilient-s3 test {host}")])
    now = datetime.datetime.now(datetime.timezone.utc)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + _VALID)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, CERT_FILE)
    key_path = os.path.join(directory, KEY_FILE)
    with open(cert_path, "wb") as out:
        out.write(certificate.public_bytes(serialization.Encoding.PEM))
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path
