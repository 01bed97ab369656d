"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, its parts and its two checks.

1 registration authority, 2 entity type, 3-8 administrative division code (GB/T 2260, digits), 9-17 the
organisation code (GB 11714: 8 characters and a check digit), 18 the check character (ISO 7064 MOD 31-3, as
python-stdnum's stdnum.cn.uscc computes it). stdnum's own validate() insists on digits in positions 1-2, which
GB 32100 does not (authorities A, N and Y exist), so only its check-character function is used here.
"""
from stdnum.cn import uscc as _stdnum

from inspector.errors import DomainError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
LENGTH = 18
_SEPARATORS = " -\t"
# Letters a code never holds, and the character a person most likely meant.
_LOOKALIKES = {"I": "1", "O": "0", "Z": "2", "S": "5", "V": "U"}
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# GB/T 2260 province-level division codes, for showing which province a code was registered in.
PROVINCE_DIVISIONS = {
    "Beijing": "110000", "Tianjin": "120000", "Hebei": "130000", "Shanxi": "140000", "Inner Mongolia": "150000",
    "Liaoning": "210000", "Jilin": "220000", "Heilongjiang": "230000", "Shanghai": "310000", "Jiangsu": "320000",
    "Zhejiang": "330000", "Anhui": "340000", "Fujian": "350000", "Jiangxi": "360000", "Shandong": "370000",
    "Henan": "410000", "Hubei": "420000", "Hunan": "430000", "Guangdong": "440000", "Guangxi": "450000",
    "Hainan": "460000", "Chongqing": "500000", "Sichuan": "510000", "Guizhou": "520000", "Yunnan": "530000",
    "Tibet": "540000", "Shaanxi": "610000", "Gansu": "620000", "Qinghai": "630000", "Ningxia": "640000",
    "Xinjiang": "650000", "Taiwan": "710000", "Hong Kong": "810000", "Macau": "820000",
}
_PROVINCE_OF_PREFIX = {code[:2]: name for name, code in PROVINCE_DIVISIONS.items()}


class UsccError(DomainError, ValueError):
    """A code that is not a valid USCC; str() says what is wrong in words a clerk can act on."""

    def __init__(self, message, code="invalid_uscc", typo=False, **details):
        super().__init__(message, code=code, **details)
        self.typo = typo


def compact(text):
    """Upper case, without spaces or hyphens."""
    return "".join(ch for ch in str(text).upper() if ch not in _SEPARATORS)


def check_character(first17):
    """The check character (position 18) for the first 17 characters."""
    return _stdnum.calc_check_digit(first17)


def organisation_check_digit(body8):
    """The GB 11714 check digit for the 8 characters of an organisation code (A=10 ... Z=35)."""
    total = sum(_org_value(ch) * w for ch, w in zip(body8, _ORG_WEIGHTS))
    digit = 11 - total % 11
    return "X" if digit == 10 else "0" if digit == 11 else str(digit)


def _org_value(ch):
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def complete(first16):
    """Append the organisation check digit and the check character to 16 characters: a valid code."""
    first17 = first16 + organisation_check_digit(first16[8:16])
    return first17 + check_character(first17)


def validate(text):
    """Return the code in canonical form, or raise UsccError saying what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise UsccError("Enter the 18-character unified social credit code.", "uscc_missing")
    code = compact(text)
    if len(code) != LENGTH:
        raise UsccError(f"A unified social credit code has {LENGTH} characters; this one has {len(code)}.",
                        "uscc_length", length=len(code))
    for position, ch in enumerate(code, start=1):
        if ch not in ALPHABET:
            hint = f": did you mean {_LOOKALIKES[ch]}?" if ch in _LOOKALIKES else "."
            raise UsccError(f"Character {position} ({ch!r}) never appears in a unified social credit code, which uses "
                            f"digits and capital letters except I, O, Z, S and V{hint}", "uscc_character",
                            typo=ch in _LOOKALIKES, position=position, found=ch)
    if not code[2:8].isdigit():
        raise UsccError(f"Characters 3-8 are the administrative division code and must be digits; found "
                        f"{code[2:8]!r}.", "uscc_division", position=3, found=code[2:8])
    expected = check_character(code[:17])
    if code[17] != expected:
        raise UsccError(f"The check character should be {expected}, not {code[17]}: this looks like a typo in one of the "
                        f"{LENGTH} characters.",
                        "uscc_check_character", typo=True, position=18, expected=expected, found=code[17])
    org_expected = organisation_check_digit(code[8:16])
    if code[16] != org_expected:
        raise UsccError(f"Characters 9-17 are the organisation code, whose last character is a GB 11714 check digit: "
                        f"it should be {org_expected}, not {code[16]}. No code is issued like this; check it against "
                        f"the business licence.", "uscc_organisation_check", position=17, expected=org_expected,
                        found=code[16])
    return code


def is_valid(text):
    """True for a valid code."""
    try:
        validate(text)
    except UsccError:
        return False
    return True


def parts(code):
    """The named parts of a valid code, and the province its division code names (None when not a province's)."""
    return {"registration_authority": code[0], "entity_type": code[1], "division_code": code[2:8],
            "division_province": _PROVINCE_OF_PREFIX.get(code[2:4]), "organisation_code": code[8:17],
            "check_character": code[17]}
