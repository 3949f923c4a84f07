"""Line colours: distinct saturated hues, each with its English and local colour words.

A colour-named line ("Red Line", "Azul") must be drawn in the colour it is named after, so
names and hex values live together here.
"""

from __future__ import annotations

from typing import NamedTuple


class LineColour(NamedTuple):
    english: str
    hex: str
    italian: str
    iberian: str
    nordic: str


PALETTE: tuple[LineColour, ...] = (
    LineColour("Red", "#e2231a", "Rossa", "Vermelha", "Röd"),
    LineColour("Blue", "#0b4ea2", "Blu", "Azul", "Blå"),
    LineColour("Green", "#00934a", "Verde", "Verde", "Grön"),
    LineColour("Yellow", "#f2b705", "Gialla", "Amarela", "Gul"),
    LineColour("Orange", "#f0761e", "Arancione", "Laranja", "Orange"),
    LineColour("Purple", "#7d3f98", "Viola", "Violeta", "Lila"),
    LineColour("Pink", "#e5579f", "Rosa", "Rosa", "Rosa"),
    LineColour("Brown", "#8d5b2d", "Marrone", "Castanha", "Brun"),
    LineColour("Teal", "#00a19a", "Turchese", "Turquesa", "Turkos"),
    LineColour("Light Blue", "#3fa9e0", "Azzurra", "Celeste", "Ljusblå"),
    LineColour("Lime", "#8dbf2e", "Lime", "Lima", "Limegrön"),
    LineColour("Grey", "#7c8083", "Grigia", "Cinzenta", "Grå"),
)

# Every word that names a colour in any language used for lines, plus common extras; no
# station name may contain one.
COLOUR_WORDS: frozenset[str] = frozenset(
    word.casefold()
    for colour in PALETTE
    for name in colour[:1] + colour[2:]
    for word in name.split()
) | frozenset({
    "gray", "violet", "magenta", "gold", "golden", "silver", "black", "white", "navy", "scarlet",
    "crimson", "azure", "amber", "indigo", "rosso", "giallo", "bianco", "nero", "roja", "rojo",
    "amarillo", "naranja", "morado", "blanco", "negro", "branco", "preto", "dourado", "vit",
    "svart", "guld", "merah", "biru", "hijau", "kuning", "ungu", "hitam", "putih", "jingga",
    "emas", "perak", "coklat", "kelabu",
})


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    """
    >>> hex_to_rgb("#0b4ea2")
    (11, 78, 162)
    """
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)
