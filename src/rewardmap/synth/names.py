"""City, station and line names in several local styles, built from word and syllable lists.

Each city draws one naming style ("Harbour St", "Piazza Verdana", "Nordstrand", "Bukit
Panjang", "Longyang Lu", ...) and one line-naming scheme ("Line 3", "Line B", "Red Line",
"Azul", "North South Line", "Metro M2"). A station name never gives its line away: it holds
no colour word, no word of a line name, no digit and no "Line"; names are unique in a city
even after the reward code's normalisation (`clean`).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from typing import NamedTuple

from ..network.names import clean
from .colors import COLOUR_WORDS, PALETTE

STYLES = ("english", "italian", "iberian", "nordic", "malay", "pinyin")

# --- word lists -------------------------------------------------------------------------

_EN_HEADS = ("King", "Queen", "Ash", "Elm", "Oak", "Bright", "Cross", "Mill", "Stone", "Brook",
             "Hart", "Fair", "Hazel", "Maple", "Willow", "Birch", "Pine", "Cedar", "Holly", "Hay",
             "Wind", "Sand", "Clay", "Deer", "Fox", "Hawk", "Swan", "Lark", "Wren", "Glen", "Bel",
             "Lang", "Aber", "Pen", "Kil", "Strat", "Wel", "Brad", "Chat", "Dun", "Ever", "Hol",
             "Kings", "Marl", "Nor", "Rams", "Shel", "Thorn", "Wal", "Wex")
_EN_TAILS = ("bridge", "ford", "wood", "field", "ton", "ham", "ley", "bury", "worth", "stead",
             "dale", "gate", "wick", "more", "combe", "hurst", "borough", "mouth", "haven",
             "croft", "well", "brook", "mere", "side", "port", "view", "ridge", "minster",
             "land", "cliffe")
_EN_FIRST = ("Elm", "Harbour", "Victoria", "Albert", "Market", "Church", "Castle", "Mill",
             "College", "Museum", "Garden", "Chapel", "Abbey", "Canal", "Union", "Liberty",
             "Regent", "Windsor", "Hampton", "Wellington", "Nelson", "Grafton", "Carlton",
             "Beacon", "Orchard", "Quarry", "Meadow", "Forest", "Bay", "Spring", "Summer",
             "Cherry", "Chestnut", "Poplar", "Laurel", "Juniper", "Heather", "Primrose",
             "Clifton", "Bishop", "Mayfield", "Fleet", "Tower", "Admiral", "Jubilee", "Ferry",
             "Tannery", "Foundry", "Arsenal", "Exchange")
_EN_SECOND = ("St", "Park", "Square", "Road", "Hill", "Gardens", "Cross", "Lane", "Place",
              "Common", "Heights", "Terrace", "Quay", "Wharf", "Row", "Avenue", "Circus",
              "Court", "Fields", "Junction", "Bay", "Point", "Vale", "Grove", "Crescent",
              "Parade", "Walk", "Bridge")

_IT_PREFIXES = ("Piazza", "Porta", "Via", "Largo", "Ponte", "Villa", "Borgo", "Colle", "Campo",
                "Viale", "Corso", "Monte", "Parco", "Torre")
_IT_NAMES = ("Verdana", "Lucia", "Garibaldi", "Mazzini", "Fiorenza", "Bellini", "Donatello",
             "Cavalli", "Marconi", "Ferraris", "Albani", "Carducci", "Leopardi", "Ariosto",
             "Battisti", "Colonna", "Farnese", "Gonzaga", "Medici", "Orsini", "Sforza",
             "Tasso", "Volta", "Galvani", "Pascoli", "Manzoni", "Petrarca", "Bramante",
             "Cimarosa", "Rossetti", "Valeria", "Aurelia", "Flaminia", "Tiburtina", "Appia",
             "Cassia", "Salaria", "Nomentana", "Prenestina", "Ostiense", "Vittoria", "Libertà")
_IT_SAINTS = ("San Marco", "San Paolo", "San Pietro", "San Lorenzo", "San Giovanni",
              "Sant'Agnese", "Santa Chiara", "Santa Croce", "Santa Maria", "San Siro",
              "Sant'Ambrogio", "San Donato", "Santa Sofia", "San Vitale", "Santo Stefano")
_IT_ON = ("B", "C", "D", "F", "G", "L", "M", "N", "P", "R", "S", "T", "V", "Br", "Tr", "Gr",
          "Fr", "Cr", "Pr", "St", "Sp")
_IT_MID = ("a", "e", "i", "o", "al", "ar", "el", "er", "or", "an", "in", "on")
_IT_END = ("mora", "dano", "lina", "sano", "vello", "rino", "gnano", "tella", "nese", "bello",
           "ciano", "tora", "zano", "sella", "pino", "lesi", "doro", "glia", "vara", "nova")

_PT_PREFIXES = ("Praça de", "Rua", "Campo de", "Alto de", "Largo de", "Avenida", "Parque",
                "Vila", "Ponte de", "Quinta de", "Cais de", "Plaza de", "Paseo de", "Puerta de",
                "Barrio", "Jardim")
_PT_NAMES = ("Espanha", "Camões", "Pombal", "Alvalade", "Benfica", "Olivais", "Moscavide",
             "Arroios", "Chelas", "Belém", "Alcântara", "Sevilha", "Bolívar", "Cervantes",
             "Colón", "Goya", "Murillo", "Sorolla", "Quevedo", "Velázquez", "Moncloa",
             "Castelo", "Graça", "Estrela", "Lumiar", "Carnide", "Telheiras", "Odivelas",
             "Marvila", "Palmela", "Esperança", "Liberdade", "Candelária", "Mercês",
             "Madalena", "Conceição", "Ribeira", "Santana", "Alameda", "Oriente")
_PT_SAINTS = ("São Bento", "São Sebastião", "São Jorge", "São Vicente", "Santa Apolónia",
              "Santa Luzia", "Santo Amaro", "San Bernardo", "San Fermín", "Santa Ana",
              "Santo Domingo", "Nossa Senhora", "San Isidro", "Santa Engrácia")
_PT_ON = ("Al", "Ben", "Cas", "Mor", "Val", "Pa", "Ri", "Tor", "Cal", "Far", "Lou", "Mi", "Bel",
          "Ca", "Bar", "Sal", "Ar", "Ol", "Pe", "Vi")
_PT_MID = ("", "a", "e", "i", "o", "ar", "or", "en")
_PT_END = ("vade", "fica", "ral", "eira", "inha", "ito", "ares", "elas", "ada", "oso", "ães",
           "ona", "edo", "illa", "ejo", "anca", "ada", "ucia", "ena", "ais")

_NO_HEADS = ("Holm", "Sol", "Berg", "Lind", "Ek", "Björk", "Sand", "Vik", "Strand", "Fjell",
             "Skog", "Hav", "Sjö", "Dal", "Lund", "Gran", "Tor", "Kvarn", "Stor", "Lill", "Ham",
             "Ulle", "Hassel", "Alm", "Ask", "Björn", "Ulv", "Frö", "Mal", "Kung", "Drott", "Ny",
             "Gamle", "Öster", "Väster", "Nord", "Sör", "Bred", "Lång", "Kall", "Grim", "Aker",
             "Fager", "Hög", "Rinke", "Tveit")
_NO_TAILS = ("berg", "strand", "vik", "dal", "lund", "by", "sund", "holm", "hagen", "stad",
             "torp", "heim", "näs", "gården", "tun", "backen", "åsen", "bro", "sjö", "vallen",
             "mark", "skog", "fors", "haug", "lia", "sletta", "ängen", "bol", "hamn", "kroken")
_NO_SUFFIXES = ("torg", "centrum", "plass", "park", "allé", "brygge", "gate", "kirke")

_MY_PREFIXES = ("Bukit", "Tanjong", "Kampong", "Jalan", "Pasir", "Sungai", "Taman", "Bandar",
                "Telok", "Kuala", "Ayer", "Padang", "Batu", "Simpang", "Seri", "Pulau", "Lorong",
                "Kebun")
_MY_WORDS = ("Batok", "Panjang", "Timah", "Gombak", "Pagar", "Katong", "Bedok", "Damai",
             "Jaya", "Indah", "Permai", "Utama", "Baru", "Lama", "Tinggi", "Besar", "Kecil",
             "Raja", "Sentosa", "Mas", "Rimau", "Bintang", "Kembangan", "Melati", "Cempaka",
             "Kenanga", "Sireh", "Durian", "Rambutan", "Manggis", "Nangka", "Pinang", "Kelapa",
             "Mawar", "Dahlia", "Tembusu", "Meranti", "Jelutong", "Angsana", "Ubi", "Lada",
             "Halia", "Serai", "Tebing", "Limau", "Duku")
_MY_ON = ("Ke", "Ta", "Pa", "Se", "Ma", "Ba", "Lu", "Su", "Ka", "Ra", "Ja", "Ti", "Ser", "Tam",
          "Kem", "Bu", "Pe", "Cha")
_MY_END = ("lang", "pis", "mpin", "ngkok", "gar", "nai", "rong", "dah", "wang", "lok", "bing",
           "tu", "ngoon", "pines", "nggol", "bun", "ran", "tan", "kit", "jong")

_PY_SYLLABLES = (
    "an", "bei", "bin", "cai", "chang", "chao", "cheng", "chun", "da", "dong", "fang", "feng",
    "fu", "gang", "gao", "gu", "guang", "gui", "hai", "he", "heng", "hu", "hua", "hui", "jia",
    "jian", "jiang", "jing", "kang", "le", "li", "lian", "liang", "lin", "ling", "long", "ma",
    "mei", "ming", "nan", "ning", "pan", "ping", "pu", "qi", "qian", "qiao", "quan", "ren",
    "rong", "run", "sha", "shan", "shang", "shen", "sheng", "shi", "shu", "shui", "song", "tai",
    "tang", "tian", "ting", "tong", "wan", "wang", "wei", "wen", "xi", "xia", "xiang", "xin",
    "xing", "xu", "yang", "yi", "ying", "yong", "yu", "yuan", "yue", "zhang", "zhao", "zhen",
    "zheng", "zhong", "zhou", "zhu")
_PY_SUFFIXES = ("Lu", "Jie", "Qiao", "Men", "Cun", "Gongyuan", "Dajie", "Guangchang", "Xincun",
                "Zhuang", "Hu", "Shan", "Yuan", "Kou", "Wan")

# Words that name or hint at a line in any scheme; never part of a station name.
_GENERIC_BANNED = frozenset({
    "line", "lines", "linea", "línea", "linha", "linje", "metro", "station", "transfer",
    "branch", "loop", "express", "circle", "north", "south", "east", "west", "downtown",
    "crosstown", "coastal", "airport", "uptown", "lakeshore", "riverside", "central",
})

# --- station names ----------------------------------------------------------------------


_VOWELS = set("aeiouáàâãéêíóôõúäöåø")


def _join(*parts: str) -> str:
    """Glue syllables, dropping a vowel that would follow a vowel and any third equal letter.

    >>> _join("Pe", "a", "ais"), _join("Lill", "lia")
    ('Peis', 'Lillia')
    """
    word = ""
    for part in parts:
        if word and part and word[-1] in _VOWELS and part[0] in _VOWELS:
            part = part[1:]
        word += part
    return re.sub(r"(.)\1\1+", r"\1\1", word)


def _english(rng: random.Random) -> str:
    compound = rng.choice(_EN_HEADS) + rng.choice(_EN_TAILS)
    roll = rng.random()
    if roll < 0.45:
        return compound
    if roll < 0.85:
        return f"{rng.choice(_EN_FIRST)} {rng.choice(_EN_SECOND)}"
    return f"{compound} {rng.choice(_EN_SECOND)}"


def _italian_word(rng: random.Random) -> str:
    return _join(rng.choice(_IT_ON), rng.choice(_IT_MID), rng.choice(_IT_END))


def _iberian_word(rng: random.Random) -> str:
    return _join(rng.choice(_PT_ON), rng.choice(_PT_MID), rng.choice(_PT_END))


def _romance(rng: random.Random, names, make_word, prefixes, saints) -> str:
    """Italian and Iberian places: "Piazza Verdana", a saint, or a bare name."""
    roll = rng.random()
    name = rng.choice(names) if rng.random() < 0.5 else make_word(rng)
    if roll < 0.45:
        return f"{rng.choice(prefixes)} {name}"
    if roll < 0.6:
        return rng.choice(saints)
    return name


def _italian(rng: random.Random) -> str:
    return _romance(rng, _IT_NAMES, _italian_word, _IT_PREFIXES, _IT_SAINTS)


def _iberian(rng: random.Random) -> str:
    return _romance(rng, _PT_NAMES, _iberian_word, _PT_PREFIXES, _PT_SAINTS)


def _nordic(rng: random.Random) -> str:
    word = _join(rng.choice(_NO_HEADS), rng.choice(_NO_TAILS))
    return f"{word} {rng.choice(_NO_SUFFIXES)}" if rng.random() < 0.2 else word


def _malay_word(rng: random.Random) -> str:
    return rng.choice(_MY_WORDS) if rng.random() < 0.6 else _join(rng.choice(_MY_ON), rng.choice(_MY_END))


def _malay(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return f"{rng.choice(_MY_PREFIXES)} {_malay_word(rng)}"
    return _malay_word(rng)


def _pinyin_word(rng: random.Random) -> str:
    first, second = rng.sample(_PY_SYLLABLES, 2)
    word = first + second
    if second[0] in "aeo":  # Xi'an, not Xian
        word = f"{first}'{second}"
    return word.capitalize()


def _pinyin(rng: random.Random) -> str:
    word, suffix = _pinyin_word(rng), rng.choice(_PY_SUFFIXES)
    return f"{word} {suffix}" if rng.random() < 0.4 and suffix.lower() not in word.lower() else word


_STATION_MAKERS: dict[str, Callable[[random.Random], str]] = {
    "english": _english, "italian": _italian, "iberian": _iberian, "nordic": _nordic,
    "malay": _malay, "pinyin": _pinyin,
}

_WORD = re.compile(r"[^\W\d_]+|\d+")


def forbidden_words(line_names) -> frozenset[str]:
    """Casefolded words no station name may contain: colour words, line words, line-name words."""
    own = {w.casefold() for name in line_names for w in _WORD.findall(name)}
    return COLOUR_WORDS | _GENERIC_BANNED | own


def _allowed(name: str, forbidden: frozenset[str]) -> bool:
    words = [w.casefold() for w in _WORD.findall(name)]
    return not any(w in forbidden or w.isdigit() for w in words)


def station_names(rng: random.Random, style: str, count: int, line_names) -> list[str]:
    """`count` distinct station names ("... Station") that give no line away."""
    make, forbidden = _STATION_MAKERS[style], forbidden_words(line_names)
    lowered = [n.casefold() for n in line_names]
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        base = make(rng)
        key = clean(base)
        if key in seen or not _allowed(base, forbidden) or any(n in base.casefold() for n in lowered):
            continue
        seen.add(key)
        names.append(f"{base} Station")
    return names


# --- city names -------------------------------------------------------------------------


def city_name(rng: random.Random, style: str) -> str:
    """A one-word city name in the style, e.g. "Valmora", "Holmvik", "Ashford"."""
    if style == "english":
        return rng.choice(_EN_HEADS) + rng.choice(_EN_TAILS)
    if style == "italian":
        return _italian_word(rng)
    if style == "iberian":
        return _iberian_word(rng)
    if style == "nordic":
        return _join(rng.choice(_NO_HEADS), rng.choice(_NO_TAILS))
    if style == "malay":
        return _join(rng.choice(_MY_ON), rng.choice(_MY_END))
    return _pinyin_word(rng).replace("'", "")


def slugify(text: str) -> str:
    """
    >>> slugify("Ljusdal Öster")
    'ljusdal_oster'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


# --- line names -------------------------------------------------------------------------


class LineLabel(NamedTuple):
    name: str    # full name, shown in the legend: "Red Line"
    badge: str   # short label on the terminus badges: "R"
    colour: str  # "#rrggbb"


_DIRECTIONS = (("North South Line", "NS"), ("East West Line", "EW"), ("North East Line", "NE"),
               ("Downtown Line", "DT"), ("Crosstown Line", "CT"), ("Coastal Line", "CL"),
               ("Airport Line", "AP"), ("Uptown Line", "UT"), ("Lakeshore Line", "LS"),
               ("Riverside Line", "RS"), ("Central Line", "CE"), ("South West Line", "SW"))
_CIRCLE = ("Circle Line", "CC")

_SCHEMES = {
    "english": ("number", "letter", "colour", "direction", "metro"),
    "italian": ("number", "letter", "local", "metro"),
    "iberian": ("number", "letter", "local", "metro"),
    "nordic": ("number", "letter", "local", "metro"),
    "malay": ("number", "colour", "direction"),
    "pinyin": ("number", "number", "number", "metro"),
}


def _initial_badges(words: list[str]) -> list[str]:
    """Short unique badges: initials, else two letters of the word, else a longer prefix.

    >>> _initial_badges(["Red", "Light Blue", "Green", "Grey", "Blue", "Rossa", "Rosa"])
    ['RE', 'LB', 'GR', 'GY', 'B', 'RO', 'RA']
    """
    def candidates(word: str) -> list[str]:
        initials = "".join(w[0] for w in word.split())
        return [initials, word[:2], word[0] + word[-1], word[:3], word]

    firsts = [candidates(w)[0].upper() for w in words]
    badges: list[str] = []
    for word, first in zip(words, firsts):
        options = [first] if firsts.count(first) == 1 else candidates(word)[1:]
        badges.append(next(b.upper() for b in options if b.upper() not in badges))
    return badges


def line_labels(rng: random.Random, style: str, count: int, loop: int | None = None) -> list[LineLabel]:
    """Names, badges and colours of `count` main lines; `loop` is the index of a circle line."""
    scheme = rng.choice(_SCHEMES[style])
    colours = rng.sample(PALETTE, count)
    hexes = [c.hex for c in colours]
    if scheme == "number":
        start = rng.choice((1, 1, 1, 2))
        numbers = sorted(rng.sample(range(start, start + count + 2), count)) if rng.random() < 0.3 \
            else list(range(start, start + count))
        return [LineLabel(f"Line {n}", str(n), h) for n, h in zip(numbers, hexes)]
    if scheme == "letter":
        letters = "ABCDEFGHJKLMNPRS"[:count]
        return [LineLabel(f"Line {x}", x, h) for x, h in zip(letters, hexes)]
    if scheme == "metro":
        return [LineLabel(f"Metro M{n}", f"M{n}", h) for n, h in zip(range(1, count + 1), hexes)]
    if scheme == "colour":
        words = [c.english for c in colours]
        badges = _initial_badges(words)
        return [LineLabel(f"{w} Line", b, h) for w, b, h in zip(words, badges, hexes)]
    if scheme == "local":
        words = [getattr(c, style) for c in colours]
        return [LineLabel(w, b, h) for w, b, h in zip(words, _initial_badges(words), hexes)]
    directions = rng.sample(_DIRECTIONS, count)
    if loop is not None:
        directions[loop] = _CIRCLE
    return [LineLabel(name, badge, h) for (name, badge), h in zip(directions, hexes)]


def branch_label(main: LineLabel) -> LineLabel:
    """A branch keeps its main line's colour; its badge gets a "b" like Paris' 3bis."""
    return LineLabel(f"{main.name} Branch", f"{main.badge}b", main.colour)
