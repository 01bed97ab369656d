"""GS1 rules a read code must keep beyond what biip checks: scanner prefixes, AI pairs, check digits, country and
currency codes, and the Digital Link form. Each rule written by hand names its source."""
from urllib.parse import parse_qsl, urlsplit

from biip.checksums import gs1_standard_check_digit
from biip.symbology import GS1Symbology

# ISO/IEC 15424 symbology identifiers, by what may follow them. GS1 element strings come from the symbols that
# carry GS1 messages (]C1 GS1-128, ]e0 GS1 DataBar, ]d2 GS1 DataMatrix, ]Q3 GS1 QR Code, ]J1 GS1 DotCode) or, a lone
# GTIN, from the retail ones (]E0 EAN-13/UPC, ]E4 EAN-8, ]I1 ITF-14): biip's GS1Symbology lists, GS1 General
# Specifications figure 5.1.2-2. A Digital Link and our own code are plain text in a QR Code or Data Matrix without
# FNC1 (]Q1, ]d1; GS1 Digital Link URI Syntax 1.1 section 4), and some scanners report the GS1 modes for a Digital
# Link too (biip's with_gs1_digital_link_uri). Any other prefix names a symbol no batch label of ours uses.
_GS1_MESSAGES = {f"]{s.value}" for s in GS1Symbology.with_gs1_messages() | GS1Symbology.with_gtin()}
_PLAIN = {"]Q1", "]d1"}
ALLOWED_PREFIXES = {
    "element strings": _GS1_MESSAGES,
    "Digital Link": _PLAIN | {f"]{s.value}" for s in GS1Symbology.with_gs1_digital_link_uri()},
    "batch code": _PLAIN,
    "bracketed form": set(),  # printed for people: a scanner never sends it
}
KNOWN_PREFIXES = set().union(*ALLOWED_PREFIXES.values())

_TRADE = ("01", "02", "8006", "8026")
_MEASURED = ("30", "31nn", "32nn", "35nn", "36nn")
# GS1 General Specifications 4.14.1 (invalid pairs of element strings), as the GS1 Barcode Syntax Dictionary's ex=
# entries state them; "n" stands for any digit, and each pair is refused in either order.
_INVALID_PAIRS = (
    ("01", "02"), ("01", "255"), ("01", "37"), ("21", "235"), ("255", "02"), ("255", "415"), ("255", "8006"),
    ("255", "8020"), ("255", "8026"), ("8006", "01"), ("8006", "37"), ("8026", "02"), ("8026", "8006"),
    ("420", "421"), ("421", "4307"), ("422", "426"), ("423", "426"), ("424", "426"), ("425", "426"),
    ("390n", "391n"), ("390n", "394n"), ("390n", "8111"), ("392n", "393n"), ("394n", "8111"), ("395n", "392n"),
    ("395n", "393n"), ("395n", "8005"), ("8017", "8018"), ("4330", "4331"), ("4332", "4333"),
)
# GS1 General Specifications 4.14.2 (mandatory associations), as the dictionary's req= entries: each tuple is a
# set of alternatives of which one must be present, and every tuple of an AI must be met.
_REQUIRES = {
    "02": [("37",)], "10": [_TRADE], "11": [_TRADE], "13": [_TRADE], "15": [_TRADE], "16": [_TRADE],
    "17": [("01", "02", "255", "8006", "8026")], "20": [_TRADE], "21": [("01", "8006")], "22": [("01",)],
    "235": [("01",)], "240": [_TRADE], "241": [_TRADE], "242": [_TRADE], "243": [("01",)],
    "250": [("01", "8006"), ("21",)], "251": [("01", "8006")], "254": [("414",)], "30": [("01", "02")],
    "37": [("00",), ("02", "8026")], "390n": [("255", "8020")], "391n": [("8020",)],
    "392n": [("01",), _MEASURED], "393n": [_MEASURED], "394n": [("255",)], "395n": [_MEASURED],
    "403": [("00",)], "415": [("8020",)], "422": [_TRADE], "423": [("01", "02")], "424": [("01", "02")],
    "425": [("01", "02")], "426": [("01", "02")], "427": [("01", "02"), ("422",)], "7001": [_TRADE],
    "700n": [("01", "02")], "7010": [("01", "02")], "7011": [("01", "02")], "7004": [("01",), ("10",)],
    "7020": [("01", "8006"), ("416",)], "7021": [("01", "8006")], "7022": [("7021",)], "703n": [("01", "02")],
    "71nn": [("01",)], "723n": [("01", "8004")], "7240": [("01", "8006")], "8001": [("01",)],
    "8005": [("01", "02")], "8007": [("415",)], "8008": [("01", "02")], "8009": [("00", "01")],
    "8011": [("8010",)], "8012": [("01", "8006")], "8019": [("8017", "8018")], "8020": [("415",)],
    "8026": [("37",)], "8030": [("00", "01", "253", "255", "8003", "8004", "8006", "8010", "8017", "8018")],
    "8111": [("255",)], "8200": [("01",)],
}
# The dictionary's logistic measures (gross weight, logistic dimensions) go on (00) or (01); trade measures on
# (01) or (02); (337n) on (01) only.
_LOGISTIC_MEASURES = {"330", "331", "332", "333", "334", "335", "336", "340", "341", "342", "343", "344", "345",
                      "346", "347", "348", "349", "353", "354", "355", "362", "363", "367", "368", "369"}

# ISO 3166-1 num-3 country codes and ISO 4217 numeric currency codes, the lists the GS1 Barcode Syntax
# Dictionary's iso3166 and iso4217 linters check against.
_COUNTRIES = frozenset((
    "004 008 010 012 016 020 024 028 031 032 036 040 044 048 050 051 052 056 060 064 068 070 072 074 076 084 086 090 "
    "092 096 100 104 108 112 116 120 124 132 136 140 144 148 152 156 158 162 166 170 174 175 178 180 184 188 191 192 "
    "196 203 204 208 212 214 218 222 226 231 232 233 234 238 239 242 246 248 250 254 258 260 262 266 268 270 275 276 "
    "288 292 296 300 304 308 312 316 320 324 328 332 334 336 340 344 348 352 356 360 364 368 372 376 380 384 388 392 "
    "398 400 404 408 410 414 417 418 422 426 428 430 434 438 440 442 446 450 454 458 462 466 470 474 478 480 484 492 "
    "496 498 499 500 504 508 512 516 520 524 528 531 533 534 535 540 548 554 558 562 566 570 574 578 580 581 583 584 "
    "585 586 591 598 600 604 608 612 616 620 624 626 630 634 638 642 643 646 652 654 659 660 662 663 666 670 674 678 "
    "682 686 688 690 694 702 703 704 705 706 710 716 724 728 729 732 740 744 748 752 756 760 762 764 768 772 776 780 "
    "784 788 792 795 796 798 800 804 807 818 826 831 832 833 834 840 850 854 858 860 862 876 882 887 894 "
).split())
_CURRENCIES = frozenset((
    "008 012 032 036 044 048 050 051 052 060 064 068 072 084 090 096 104 108 116 124 132 136 144 152 156 170 174 188 "
    "191 192 203 208 214 222 230 232 238 242 262 270 292 320 324 328 332 340 344 348 352 356 360 364 368 376 388 392 "
    "398 400 404 408 410 414 417 418 422 426 430 434 446 454 458 462 480 484 496 498 504 512 516 524 532 533 548 554 "
    "558 566 578 586 590 598 600 604 608 634 643 646 654 682 690 694 702 704 706 710 728 748 752 756 760 764 776 780 "
    "784 788 800 807 818 826 834 840 858 860 882 886 901 924 925 927 928 929 930 931 932 933 934 936 938 940 941 943 "
    "944 946 947 948 949 950 951 952 953 955 956 957 958 959 960 961 962 963 964 965 967 968 969 970 971 972 973 975 "
    "976 977 978 979 980 981 984 985 986 990 994 997 999 "
).split())


def _matches(ai, pattern):
    return len(ai) == len(pattern) and all(p in ("n", a) for p, a in zip(pattern, ai))


def _present(ais, pattern):
    return any(_matches(ai, pattern) for ai in ais)


def _rules_of(ai):
    if ai in _REQUIRES:
        return _REQUIRES[ai]
    if len(ai) == 4 and "3100" <= ai <= "3699":
        if ai[:3] == "337":
            return [("01",)]
        return [("00", "01")] if ai[:3] in _LOGISTIC_MEASURES else [("01", "02")]
    return next((rules for pattern, rules in _REQUIRES.items() if "n" in pattern and _matches(ai, pattern)), [])


def _check_digit_fails(digits):
    return not digits.isdigit() or gs1_standard_check_digit(digits[:-1]) != int(digits[-1])


def _linted(element):
    """Why one element string's value breaks its AI's content rules (GS1 Barcode Syntax Dictionary linters)."""
    ai, value = element.ai.ai, element.value
    if ai == "00" and element.sscc_error:
        return f"the SSCC check digit fails in field (00) {value}"
    if ai == "02" and element.gtin_error:
        return f"the GTIN check digit fails in field (02) {value}"
    if ai in ("410", "411", "412", "413", "414", "415", "416", "417") and element.gln_error:
        return f"the GLN check digit fails in field ({ai}) {value}"
    check = {"8006": value[:14], "8026": value[:14], "253": value[:13], "255": value[:13], "8003": value[1:14],
             "402": value, "8017": value, "8018": value}.get(ai)
    if check is not None and _check_digit_fails(check):
        return f"the check digit fails in field ({ai}) {value}"
    countries = {"421": [value[:3]], "422": [value], "424": [value], "426": [value],
                 "423": _groups(value), "425": _groups(value)}.get(ai)
    if len(ai) == 4 and ai[:3] == "703" and value[:3] != "999":  # 999: the processor's country is not stated
        countries = [value[:3]]
    if countries is not None and (not countries or any(c not in _COUNTRIES for c in countries)):
        return f"field ({ai}) {value} does not hold ISO 3166 country codes"
    if len(ai) == 4 and ai[:3] in ("391", "393") and value[:3] not in _CURRENCIES:
        return f"field ({ai}) does not start with an ISO 4217 currency code"
    return None


def _groups(value):
    if len(value) % 3 or not 3 <= len(value) <= 15:
        return []
    return [value[i:i + 3] for i in range(0, len(value), 3)]


def violation(elements):
    """The first GS1 rule the element strings break, as words for a sentence, or None."""
    values = {}
    for element in elements:
        if values.setdefault(element.ai.ai, element.value) != element.value:
            return f"two different values for field ({element.ai.ai})"
    ais = list(values)
    for first, second in _INVALID_PAIRS:
        for ai in ais:
            if _matches(ai, first) and any(_matches(other, second) for other in ais if other != ai):
                other = next(o for o in ais if o != ai and _matches(o, second))
                return f"fields ({ai}) and ({other}) must not appear together"
    for ai in ais:
        family = ai[:3]
        if len(ai) == 4 and ("3100" <= ai <= "3699" or family in ("390", "391", "392", "393", "394", "395")):
            twin = next((o for o in ais if o != ai and len(o) == 4 and o[:3] == family), None)
            if twin:
                return f"fields ({ai}) and ({twin}) give one measure twice"
    for ai in ais:
        for alternatives in _rules_of(ai):
            if not any(_present(ais, pattern) for pattern in alternatives):
                needed = " or ".join(f"({p})" for p in alternatives)
                return f"field ({ai}) needs {needed} beside it"
    for element in elements:
        linted = _linted(element)
        if linted:
            return linted
    return None


# GS1 Digital Link URI Syntax 1.1, sections 4.4 and 4.8: primary keys and their key qualifiers belong in the path
# (the query string carries only data attributes); the GTIN in the path has all 14 digits (4.5: a 8, 12 or 13
# digit GTIN is left-padded by whoever writes the link, so a short one is not a canonical link); no AI is given twice.
_PATH_ONLY = {"00", "01", "10", "21", "22", "235", "253", "254", "255", "414", "417", "7040", "8003", "8004",
              "8006", "8010", "8011", "8013", "8017", "8018", "8019"}


def link_violation(value):
    """The first Digital Link form rule the URI breaks, as words for a sentence, or None."""
    parts = urlsplit(value)
    segments = parts.path.split("/")
    if "01" in segments:
        gtin = segments[segments.index("01") + 1] if segments.index("01") + 1 < len(segments) else ""
        if len(gtin) != 14:
            return f"its product number has {len(gtin)} digits instead of 14 (a short GTIN must be padded with zeros)"
    path_ais = segments[segments.index("01"):][::2] if "01" in segments else []
    seen = set()
    for key, _ in parse_qsl(parts.query, keep_blank_values=True):
        if not key.isdigit():
            continue
        if key in _PATH_ONLY:
            return f"field ({key}) is in the query string, but GS1 puts it only in the path"
        if key in seen or key in path_ais:
            return f"field ({key}) is given twice"
        seen.add(key)
    return None
