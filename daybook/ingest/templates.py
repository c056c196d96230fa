"""The inline templates the portal uses most, rendered as MediaWiki renders them (pure).

Wikitext read offline has no MediaWiki to expand ``{{convert|49.6|C|F}}`` into
"49.6 °C (121.3 °F)"; this module does it for the templates portal editors reach for
in a sentence: ``convert`` (Module:Convert's common units and its default rounding),
``circa``, ``nowrap``, ``lang``/``langx``/``lang-xx``, ``ill``, ``as of``, ``US$`` and the
other currency templates, ``frac``, ``abbr``, ``nobold``, ``sic``. ``render`` takes a
template's name and its parameters already read into inline runs (so links inside them
stay links) and gives the runs MediaWiki would show, or None for a template it does not
know: the caller keeps that one's visible parameters and counts it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from daybook.ingest.outline import Inline, collapse

Runs = list[Inline]
Args = Sequence[Runs]  # positional parameters, in order, each as inline runs


def _plain(runs: Runs) -> str:
    return collapse("".join(part.text for part in runs))


def _text(text: str) -> Runs:
    return [Inline("text", text)] if text else []


# -- convert ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One unit of Module:Convert/data: its kind, its size in SI units, how it is written."""

    kind: str
    scale: float  # SI units (m, m², m/s, kg, K) per unit
    symbol: str
    name: str  # singular, British spelling (en.wikipedia's default)
    plural: str = ""  # "" : name + "s"
    us_name: str = ""  # with sp=us, when it differs ("kilometer")
    offset: float = 0.0  # temperatures: K = (value - offset) * scale
    default: str = ""  # the output unit when none is given
    more_precision: bool = False  # Module:Convert's integer_more_precision (ft, lb)

    def named(self, singular: bool, us: bool) -> str:
        name = self.us_name or self.name if us else self.name
        if singular:
            return name
        if self.plural:
            return self.plural.replace(self.name, name) if us and self.us_name else self.plural
        return name + "s"


UNITS: dict[str, Unit] = {
    # length
    "km": Unit("length", 1000, "km", "kilometre", us_name="kilometer", default="mi"),
    "m": Unit("length", 1, "m", "metre", us_name="meter", default="ft"),
    "cm": Unit("length", 0.01, "cm", "centimetre", us_name="centimeter", default="in"),
    "mm": Unit("length", 0.001, "mm", "millimetre", us_name="millimeter", default="in"),
    "mi": Unit("length", 1609.344, "mi", "mile", default="km"),
    "ft": Unit("length", 0.3048, "ft", "foot", "feet", default="m", more_precision=True),
    "in": Unit("length", 0.0254, "in", "inch", "inches", default="cm"),
    "yd": Unit("length", 0.9144, "yd", "yard", default="m"),
    "nmi": Unit("length", 1852, "nmi", "nautical mile", default="km"),
    # area
    "km2": Unit("area", 1e6, "km2", "square kilometre", us_name="square kilometer", default="sqmi"),
    "m2": Unit("area", 1, "m2", "square metre", us_name="square meter", default="sqft"),
    "ha": Unit("area", 1e4, "ha", "hectare", default="acre"),
    "sqmi": Unit("area", 2589988.110336, "sq mi", "square mile", default="km2"),
    "sqft": Unit("area", 0.09290304, "sq ft", "square foot", "square feet", default="m2"),
    "acre": Unit("area", 4046.8564224, "acres", "acre", default="ha"),
    # speed
    "km/h": Unit("speed", 1000 / 3600, "km/h", "kilometre per hour", "kilometres per hour",
                 us_name="kilometer per hour", default="mph"),
    "mph": Unit("speed", 0.44704, "mph", "mile per hour", "miles per hour", default="km/h"),
    "m/s": Unit("speed", 1, "m/s", "metre per second", "metres per second",
                us_name="meter per second", default="ft/s"),
    "ft/s": Unit("speed", 0.3048, "ft/s", "foot per second", "feet per second", default="m/s"),
    "kn": Unit("speed", 1852 / 3600, "kn", "knot", default="km/h"),
    # mass
    "kg": Unit("mass", 1, "kg", "kilogram", default="lb"),
    "g": Unit("mass", 0.001, "g", "gram", default="oz"),
    "t": Unit("mass", 1000, "t", "tonne", default="ST"),
    "lb": Unit("mass", 0.45359237, "lb", "pound", default="kg", more_precision=True),
    "oz": Unit("mass", 0.028349523125, "oz", "ounce", default="g"),
    "ST": Unit("mass", 907.18474, "short tons", "short ton", default="t"),
    "LT": Unit("mass", 1016.0469088, "long tons", "long ton", default="t"),
    # temperature
    "C": Unit("temperature", 1, "°C", "degree Celsius", "degrees Celsius", offset=-273.15, default="F"),
    "F": Unit("temperature", 5 / 9, "°F", "degree Fahrenheit", "degrees Fahrenheit", offset=-459.67,
              default="C"),
    "K": Unit("temperature", 1, "K", "kelvin", default="C"),
}  # fmt: skip
_ALIASES = {
    "kilometre": "km", "kilometer": "km", "kilometres": "km", "kilometers": "km", "metre": "m",
    "meter": "m", "metres": "m", "meters": "m", "mile": "mi", "miles": "mi", "foot": "ft", "feet": "ft",
    "inch": "in", "km²": "km2", "sqkm": "km2", "m²": "m2", "sqm": "m2", "mi2": "sqmi", "ft2": "sqft",
    "acres": "acre", "kph": "km/h", "kmh": "km/h", "km/hr": "km/h", "knot": "kn", "knots": "kn",
    "kt": "kn", "kilogram": "kg", "kilograms": "kg", "pound": "lb", "pounds": "lb", "tonne": "t",
    "tonnes": "t", "°C": "C", "°F": "F", "degC": "C", "degF": "F",
}  # fmt: skip
# What a range's word shows between its values (``{{convert|5|-|10|km}}``: "5–10").
_RANGES = {"-": "–", "–": "–", "to": " to ", "and": " and ", "or": " or "}
_NUMBER = re.compile(r"^[-−+]?(\d[\d,]*)?(\.\d+)?(?:[eE][-+]?\d+)?$")


def unit(code: str) -> Unit | None:
    """A unit by the code convert takes (``km``, ``sqmi``, ``C``...) or a common alias."""
    code = code.strip()
    return UNITS.get(code) or UNITS.get(_ALIASES.get(code, ""))


def _number(text: str) -> float | None:
    text = text.strip().replace("−", "-")
    if not text or not _NUMBER.match(text) or not any(ch.isdigit() for ch in text):
        return None
    return float(text.replace(",", ""))


def _clean(text: str) -> str:
    """The input number as Module:Convert reads it: no commas, no sign."""
    return text.strip().replace(",", "").lstrip("+-−")


def default_precision(invalue: float, inclean: str, outvalue: float, source: Unit, target: Unit) -> int:
    """Module:Convert's ``default_precision``: the output keeps the input's precision,
    scaled by the conversion, and at least two significant figures (three in kelvin
    for temperatures)."""
    fudge = 1e-14
    mantissa, _, exponent = inclean.lower().partition("e")
    integer, dot, decimals = mantissa.partition(".")
    prec = len(decimals) if dot else -(len(integer) - len(integer.rstrip("0")))
    if exponent:
        prec -= int(exponent)
    if source.kind == "temperature":
        adjust = 0.0
        kelvin = abs((invalue - source.offset) * source.scale)
        minprec = 2 if kelvin < 1e-8 else 2 - math.floor(math.log10(kelvin) + fudge)
    else:
        if invalue == 0 or outvalue <= 0:
            return 0
        if target.more_precision and math.floor(invalue) == invalue:
            # Module:Convert's remedy for "50" giving less than "49.5": more digits.
            adjust = -math.log10(source.scale)
        else:
            adjust = math.log10(abs(invalue / outvalue))
        adjust += math.log10(2)
        minprec = 1 - math.floor(math.log10(outvalue) + fudge)
    return max(math.floor(prec + adjust), minprec)


def _convert_value(value: float, source: Unit, target: Unit) -> float:
    if source.kind == "temperature":
        return (value - source.offset) * (source.scale / target.scale) + target.offset
    return value * (source.scale / target.scale)


def _with_commas(digits: str) -> str:
    """Thousands separated as Module:Convert does it: 1,000 and 12,345.6."""
    integer, dot, decimals = digits.partition(".")
    if len(integer) >= 4 and integer.isdigit():
        integer = f"{int(integer):,}"
    return integer + dot + decimals


def _show(value: float, precision: int) -> str:
    """The rounded value as Module:Convert writes it: thousands separated, a minus sign."""
    negative = value < 0
    value = abs(value)
    if precision >= 0:
        shown = f"{value + (2e-14 if precision <= 8 else 0):.{precision}f}"
    else:
        shown = f"{value / 10**-precision:.0f}"
        if shown != "0":
            shown += "0" * -precision
    shown = _with_commas(shown)
    return ("−" if negative and shown.strip("0.,") else "") + shown


def _shown_input(text: str) -> str:
    """The input value as the page shows it: commas added, a true minus sign."""
    text = text.strip()
    negative = text.startswith(("-", "−"))
    shown = _with_commas(_clean(text)) if "e" not in text.lower() else _clean(text)
    return ("−" if negative else "") + shown


def convert(args: Sequence[str], named: Mapping[str, str]) -> str | None:
    """``{{convert|value|unit|[to unit]|[precision]}}``, a range (``|5|-|10|km|``), with
    ``abbr=`` (on, off, in, out, values), ``sp=us``, ``adj=on`` and ``disp=`` (or, flip,
    b, x), as Module:Convert writes them; None for what this converter does not know."""
    args = [a.strip() for a in args]
    if len(args) < 2 or _number(args[0]) is None:
        return None
    values, joins = [args[0]], []
    at = 1
    while at + 1 < len(args) and args[at] in _RANGES and _number(args[at + 1]) is not None:
        joins.append(_RANGES[args[at]])
        values.append(args[at + 1])
        at += 2
    source = unit(args[at]) if at < len(args) else None
    if source is None:
        return None
    rest = args[at + 1 :]
    target_code = rest[0] if rest and rest[0] else source.default
    target = unit(target_code)
    if target is None or target.kind != source.kind or target is source:
        return None
    precision: int | None = None
    if len(rest) > 1 and rest[1]:
        if not re.fullmatch(r"-?\d+", rest[1]):
            return None
        precision = int(rest[1])
    numbers = [v for v in (_number(v) for v in values) if v is not None]
    outs = [_convert_value(v, source, target) for v in numbers]
    if precision is None:
        # A range is shown at one precision: the finest any of its values needs.
        precision = max(
            default_precision(abs(v), _clean(text), abs(o), source, target)
            for v, text, o in zip(numbers, values, outs, strict=True)
        )
    shown_in = [_shown_input(v) for v in values]
    shown_out = [_show(o, precision) for o in outs]
    abbr = named.get("abbr", "").strip().lower()
    us = named.get("sp", "").strip().lower() == "us"
    adjective = named.get("adj", "").strip().lower() in ("on", "yes", "y")
    # Temperatures are written with their symbols unless names are asked for.
    symbol_in = abbr in ("on", "in", "yes", "y") or (source.kind == "temperature" and abbr != "off")
    symbol_out = abbr not in ("off", "in") or (target.kind == "temperature" and abbr != "off")

    def side(shown: list[str], unit_: Unit, symbol: bool, *, adj: bool) -> str:
        number = shown[0] + "".join(j + s for j, s in zip(joins, shown[1:], strict=True))
        if abbr == "values":
            return number
        if symbol:
            return f"{number} {unit_.symbol}"
        if adj:  # "a 2-kilometre walk"
            return f"{number}-{unit_.named(True, us)}"
        singular = len(shown) == 1 and re.fullmatch(r"−?1(?:\.0*)?", shown[0]) is not None
        return f"{number} {unit_.named(singular, us)}"

    disp = named.get("disp", "").strip().lower()
    if disp == "flip":  # the converted value first
        first = side(shown_out, target, symbol_in, adj=adjective)
        second = side(shown_in, source, symbol_out, adj=False)
    else:
        first = side(shown_in, source, symbol_in, adj=adjective)
        second = side(shown_out, target, symbol_out, adj=False)
    if disp in ("", "b", "flip"):
        return f"{first} ({second})"
    if disp == "or":
        return f"{first} or {second}"
    if disp in ("out", "output only"):
        return second
    return None


# -- the other templates ----------------------------------------------------------------

# Currency templates: the sign shown before the amount, and the article it links.
CURRENCIES: dict[str, tuple[str, str]] = {
    "us$": ("US$", "United States dollar"),
    "usd": ("US$", "United States dollar"),
    "£": ("£", "Pound sterling"),
    "gbp": ("£", "Pound sterling"),
    "€": ("€", "Euro"),
    "euro": ("€", "Euro"),
    "eur": ("€", "Euro"),
    "a$": ("A$", "Australian dollar"),
    "au$": ("A$", "Australian dollar"),
    "ca$": ("CA$", "Canadian dollar"),
    "nz$": ("NZ$", "New Zealand dollar"),
    "hk$": ("HK$", "Hong Kong dollar"),
    "¥": ("¥", "Japanese yen"),
    "jpy": ("¥", "Japanese yen"),
    "inr": ("₹", "Indian rupee"),
    "₹": ("₹", "Indian rupee"),
}
# Language names for lang-xx / langx, which show "French: texte" with the name linked.
LANGUAGES = {
    "ar": "Arabic", "de": "German", "el": "Greek", "es": "Spanish", "fa": "Persian", "fr": "French",
    "he": "Hebrew", "hi": "Hindi", "it": "Italian", "ja": "Japanese", "ko": "Korean", "la": "Latin",
    "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ru": "Russian", "sv": "Swedish", "tr": "Turkish",
    "uk": "Ukrainian", "ur": "Urdu", "zh": "Chinese", "id": "Indonesian", "ro": "Romanian", "hu": "Hungarian",
    "cs": "Czech", "fi": "Finnish", "da": "Danish", "no": "Norwegian", "ka": "Georgian", "hy": "Armenian",
    "sr": "Serbian", "hr": "Croatian", "bg": "Bulgarian", "be": "Belarusian", "vi": "Vietnamese",
    "th": "Thai", "ps": "Pashto", "ku": "Kurdish", "am": "Amharic", "so": "Somali", "sw": "Swahili",
    "ga": "Irish", "cy": "Welsh", "ca": "Catalan", "eu": "Basque", "my": "Burmese", "bn": "Bengali",
}  # fmt: skip
# Templates that show their text parameter as it is.
WRAPPERS = {
    "nowrap": 1, "nobr": 1, "nobold": 1, "noitalic": 1, "abbr": 1, "small": 1, "smaller": 1, "big": 1,
    "larger": 1, "em": 1, "strong": 1, "resize": 1, "lang": 2, "transl": 2, "transliteration": 2,
    "script": 2, "nowiki": 1, "tooltip": 1, "abbrlink": 1, "lang-rtl": 2, "text": 1,
}  # fmt: skip
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def _param(args: Args, index: int) -> Runs:
    return list(args[index]) if index < len(args) else []


def _circa(args: Args, named: Mapping[str, str]) -> Runs:
    year = _plain(_param(args, 0))
    return _text(f"c. {year}" if year else "c.")


def _as_of(args: Args, named: Mapping[str, str]) -> Runs | None:
    """``{{as of|2024|5|7}}``: "As of 7 May 2024" (``df=US``: "May 7, 2024"; ``lc=y``)."""
    if named.get("alt"):
        return _text(named["alt"].strip())
    parts = [_plain(_param(args, n)) for n in range(3)]
    try:
        year = int(parts[0])
        month = int(parts[1]) if parts[1] else None
        day = int(parts[2]) if parts[2] else None
        if month is not None:
            dt.date(year, month, day or 1)
    except ValueError:
        return None
    us = named.get("df", "").strip().lower() == "us"
    if month is None:
        when = str(year)
    elif day is None:
        when = f"{_MONTH_NAMES[month - 1]} {year}"
    elif us:
        when = f"{_MONTH_NAMES[month - 1]} {day}, {year}"
    else:
        when = f"{day} {_MONTH_NAMES[month - 1]} {year}"
    lead = "as of" if named.get("lc", "").strip().lower() in ("y", "yes", "on", "true") else "As of"
    return _text(f"{lead} {when}")


def _frac(args: Args, named: Mapping[str, str]) -> Runs:
    parts = [_plain(_param(args, n)) for n in range(min(len(args), 3))]
    if len(parts) == 3:
        # The whole part, a space only screen readers get (not display:none), the fraction.
        return _text(f"{parts[0]}\u00a0{parts[1]}\u2044{parts[2]}")
    if len(parts) == 2:
        return _text(f"{parts[0]}\u2044{parts[1]}")
    return _text(f"1\u2044{parts[0]}" if parts else "")


def _sic(args: Args, named: Mapping[str, str]) -> Runs:
    hide = named.get("hide", "").strip().lower() in ("y", "yes", "on", "true")
    if len(args) >= 2 and _plain(args[0]) == "?":
        text, mark = _param(args, 1), "[sic?]"
    elif len(args) >= 2:
        text = [*_param(args, 0), *_param(args, 1)]
        mark = "[sic]"
    else:
        text, mark = _param(args, 0), "[sic]"
    if hide:
        return text
    return [*text, Inline("text", f" {mark}")] if text else _text(mark)


def _ill(args: Args, named: Mapping[str, str]) -> Runs:
    """``{{ill|Title|fr|Titre}}``: a link to Title shown as ``lt=`` or Title; the other
    language's link is hidden from print and from daybook alike."""
    title = _plain(_param(args, 0))
    if not title:
        return []
    label = named.get("lt", "").strip() or title
    return [Inline("link", label, title)]


def _language(code: str, args: Args, at: int, named: Mapping[str, str]) -> Runs | None:
    name = LANGUAGES.get(code.lower().split("-")[0])
    if name is None:
        return None
    text = _param(args, at)
    if named.get("link", "").strip().lower() in ("no", "n", "off"):
        return [Inline("text", f"{name}: "), *text]
    return [Inline("link", name, f"{name} language"), Inline("text", ": "), *text]


def _currency(sign: str, article: str, args: Args, named: Mapping[str, str]) -> Runs:
    amount = _param(args, 0)
    if named.get("link", "").strip().lower() in ("no", "n", "off"):
        return [Inline("text", sign), *amount]
    return [Inline("link", sign, article), *amount]


Renderer = Callable[[Args, Mapping[str, str]], "Runs | None"]
_RENDERERS: dict[str, Renderer] = {
    "circa": _circa,
    "c.": _circa,
    "ca.": _circa,
    "as of": _as_of,
    "frac": _frac,
    "fraction": _frac,
    "sic": _sic,
    "ill": _ill,
    "interlanguage link": _ill,
    "interlanguage link multi": _ill,
}


def known(name: str) -> bool:
    """Whether ``render`` knows the template (lower-cased name, no ``Template:``)."""
    return (
        name in _RENDERERS
        or name in WRAPPERS
        or name in CURRENCIES
        or name in ("convert", "cvt", "langx")
        or (name.startswith("lang-") and name[5:].split("-")[0] in LANGUAGES)
    )


def render(name: str, args: Args, named: Mapping[str, str]) -> Runs | None:
    """What MediaWiki shows for ``{{name|args|named=...}}``, or None for a template
    this module does not know (or a use of it, such as a unit, it cannot render)."""
    if name in ("convert", "cvt"):
        if name == "cvt":  # {{cvt}} is {{convert}} with abbr=on
            named = {"abbr": "on", **named}
        shown = convert([_plain(a) for a in args], named)
        return _text(shown) if shown is not None else None
    if name in _RENDERERS:
        return _RENDERERS[name](args, named)
    if name in WRAPPERS:
        return _param(args, WRAPPERS[name] - 1)
    if name in CURRENCIES:
        return _currency(*CURRENCIES[name], args, named)
    if name == "langx":
        return _language(_plain(_param(args, 0)), args, 1, named)
    if name.startswith("lang-"):
        return _language(name[5:], args, 0, named)
    return None
