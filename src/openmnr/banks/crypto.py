"""Passphrase encryption of exported hash lists (no Django here, so a recipient can reuse it).

Hash lists are sensitive (a PDQ hash can be partly inverted into a recognisable thumbnail), so
every export leaves encrypted. The format, version 1::

    b"OMNRENC1" | salt (16 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext with its 16-byte tag

The key is scrypt(passphrase as UTF-8, salt, n=2**15, r=8, p=1, 32 bytes); the first 24 bytes
(magic and salt) are authenticated as associated data. AES-GCM detects any change to the file
and a wrong passphrase alike. To decrypt without OpenMNR, with the ``cryptography`` package::

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
    data = open("bank.txt.omnrenc", "rb").read()
    key = Scrypt(salt=data[8:24], length=32, n=2**15, r=8, p=1).derive(passphrase.encode())
    plain = AESGCM(key).decrypt(data[24:36], data[36:], data[:24])
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"OMNRENC1"
SUFFIX = ".omnrenc"
MIN_PASSPHRASE = 12
_SALT, _NONCE = 16, 12
_HEADER = len(MAGIC) + _SALT


class CryptoError(ValueError):
    """A file cannot be encrypted or decrypted as asked."""


class WeakPassphrase(CryptoError):
    pass


class DecryptionFailed(CryptoError):
    """Wrong passphrase, or a damaged or truncated file: AES-GCM cannot tell the two apart."""


def is_encrypted(data: bytes) -> bool:
    return data.startswith(MAGIC)


def _key(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase.encode())


def encrypt(plain: bytes, passphrase: str) -> bytes:
    if len(passphrase) < MIN_PASSPHRASE:
        raise WeakPassphrase(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    salt, nonce = os.urandom(_SALT), os.urandom(_NONCE)
    header = MAGIC + salt
    return header + nonce + AESGCM(_key(passphrase, salt)).encrypt(nonce, plain, header)


def decrypt(data: bytes, passphrase: str) -> bytes:
    if not is_encrypted(data) or len(data) < _HEADER + _NONCE + 16:
        raise DecryptionFailed("not an OpenMNR encrypted file")
    header, nonce, sealed = data[:_HEADER], data[_HEADER : _HEADER + _NONCE], data[_HEADER + _NONCE :]
    try:
        return AESGCM(_key(passphrase, header[len(MAGIC) :])).decrypt(nonce, sealed, header)
    except InvalidTag:
        raise DecryptionFailed("wrong passphrase, or the file is damaged") from None
