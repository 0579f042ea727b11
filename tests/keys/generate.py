"""Regenerates the test-only signing keys of tests/tokens.rs and src/auth tests: PKCS#8 PEM private keys and their
public JWKs (with `kid` and `alg`). These keys sign nothing real; never configure them outside tests.

    python3 tests/keys/generate.py      (needs the `cryptography` package)
"""
import base64, json, pathlib
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

HERE = pathlib.Path(__file__).parent

def b64(n: bytes) -> str:
    return base64.urlsafe_b64encode(n).rstrip(b"=").decode()

def uint(i: int) -> bytes:
    return i.to_bytes((i.bit_length() + 7) // 8, "big")

def write(name, key, jwk):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (HERE / f"{name}.pem").write_bytes(pem)
    (HERE / f"{name}.jwk.json").write_text(json.dumps({"kid": name, "use": "sig", **jwk}, indent=2) + "\n")

for name in ("rsa-old", "rsa-new"):
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    n = k.public_key().public_numbers()
    write(name, k, {"kty": "RSA", "alg": "RS256", "n": b64(uint(n.n)), "e": b64(uint(n.e))})

k = ec.generate_private_key(ec.SECP256R1())
n = k.public_key().public_numbers()
write("ec", k, {"kty": "EC", "alg": "ES256", "crv": "P-256", "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))})

k = ed25519.Ed25519PrivateKey.generate()
raw = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
write("ed", k, {"kty": "OKP", "alg": "EdDSA", "crv": "Ed25519", "x": b64(raw)})
