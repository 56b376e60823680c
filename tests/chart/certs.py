"""Test certificates, made at test time with the openssl binary (none is committed): a CA
and leaf certificates signed by it, usable by servers and clients (mutual TLS)."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass


@dataclass
class Cert:
    crt: str  # PEM text
    key: str
    ca: str   # the signing CA's certificate


def _openssl(*args: str, cwd: str) -> None:
    p = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert p.returncode == 0, f"openssl {' '.join(args)}: {p.stderr}"


def _read(path: str) -> str:
    with open(path) as fh:
        return fh.read()


def make_ca(workdir: str, name: str) -> str:
    """A self-signed CA in workdir/<name>.{crt,key}; returns the certificate PEM."""
    os.makedirs(workdir, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2",
             "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=workdir)
    return _read(os.path.join(workdir, f"{name}.crt"))


def make_cert(workdir: str, ca: str, name: str, dns: list[str], ips: list[str] = ()) -> Cert:
    """A leaf certificate for `dns` names and `ips`, signed by CA `ca` of make_ca."""
    sans = ",".join([f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips])
    with open(os.path.join(workdir, f"{name}.ext"), "w") as fh:
        fh.write(f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
                 "keyUsage=critical,digitalSignature,keyEncipherment\n"
                 "extendedKeyUsage=serverAuth,clientAuth\n")
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}",
             cwd=workdir)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.crt", "-days", "1", "-extfile", f"{name}.ext",
             cwd=workdir)
    return Cert(_read(os.path.join(workdir, f"{name}.crt")),
                _read(os.path.join(workdir, f"{name}.key")),
                _read(os.path.join(workdir, f"{ca}.crt")))


def tls_secret(c: Cert) -> dict[str, str]:
    """The keys of a kubernetes.io/tls Secret (as cert-manager writes it)."""
    return {"tls.crt": c.crt, "tls.key": c.key, "ca.crt": c.ca}
