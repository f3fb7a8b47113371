"""Pledge references a person types into a bank transfer, e.g. `TAF-7K4Q-2M`: a prefix from the
project's title, five random characters and a check character (Luhn mod 32), in an alphabet with no
0/O nor 1/I, so that a misread or mistyped reference is caught instead of matching another pledge."""

from __future__ import annotations

import secrets
import unicodedata

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_VALUE = {character: index for index, character in enumerate(ALPHABET)}


def check_character(characters: str) -> str:
    """Luhn mod N over the alphabet: catches every single-character error and most swaps."""
    total, factor = 0, 2
    for character in reversed(characters):
        addend = factor * _VALUE[character]
        total += addend // len(ALPHABET) + addend % len(ALPHABET)
        factor = 1 if factor == 2 else 2
    return ALPHABET[(len(ALPHABET) - total % len(ALPHABET)) % len(ALPHABET)]


def prefix_of(title: str) -> str:
    """Three letters of the title, without accents (`Tafraout solaire` -> `TAF`), padded with X."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().upper()
    letters = [character for character in plain if character in _VALUE and character.isalpha()]
    return "".join(letters[:3]).ljust(3, "X")


def new_reference(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(5))
    return f"{prefix}-{body[:4]}-{body[4]}{check_character(prefix + body)}"


def normalised(typed: str) -> str:
    """What was typed, in the one way references are stored: upper case, dashes where they go."""
    characters = "".join(character for character in typed.upper() if character.isalnum())
    if len(characters) != 9:
        return typed.strip().upper()
    return f"{characters[:3]}-{characters[3:7]}-{characters[7:]}"


def is_valid(reference: str) -> bool:
    characters = reference.replace("-", "")
    if len(characters) != 9 or any(character not in _VALUE for character in characters):
        return False
    return check_character(characters[:-1]) == characters[-1]
