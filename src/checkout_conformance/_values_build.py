"""Build `fixtures/values.yaml`: the values real customers send, and the look-alikes a server must
refuse, drawn from well-kept sources instead of typed by hand.

Valid classes (each sent on its own by an ACC or RULE scenario, so that a refusal names its class):
names in many scripts, e-mail addresses in their ordinary variety, phone numbers of many regions
in each common format, addresses per country (with and without subdivisions), tax ids that pass
their checksums, metadata keys and values of every JSON scalar type, URLs, custom-field keys and
labels. Look-alikes (each refused by a VAL scenario): the codes of neighbouring standards and
conventions for every enum the request has (alpha-3 and numeric country codes, country names,
subdivision codes, ISO 4217 codes outside the documented enum, other spellings of enum values,
full-width forms).

Sources, pinned in the `dev` extra so that the file is reproducible: Faker (names, addresses,
companies, words, URLs and e-mail addresses per locale, at a fixed seed), phonenumbers (each
region's example numbers), pycountry (countries, subdivisions, currencies), python-stdnum
(the checksums tax ids must pass). Every entry says where it came from (`source`). Run
`checkout-conformance values build` to rewrite the file, `--check` to compare (the tests do).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from . import _resources
from .contract import Contract, load_contract

VALUES_PATH = _resources.VALUES_PATH
SEED = 20261206

Entry = dict[str, Any]

# Locales by script: Latin with diacritics, Cyrillic, Greek, Hebrew, Arabic, Persian, Devanagari,
# Bengali, Tamil, Thai, Georgian, Armenian, Han (simplified, traditional), Kana, Hangul, Vietnamese.
NAME_LOCALES = (
    "en_US", "de_DE", "fr_FR", "es_MX", "pt_BR", "pl_PL", "cs_CZ", "hu_HU", "tr_TR", "ro_RO",
    "lt_LT", "is_IS", "vi_VN", "ru_RU", "uk_UA", "bg_BG", "el_GR", "he_IL", "ar_AA", "fa_IR",
    "hi_IN", "bn_BD", "ta_IN", "th_TH", "ka_GE", "hy_AM", "zh_CN", "zh_TW", "ja_JP", "ko_KR",
    "yo_NG", "zu_ZA",
)  # fmt: skip
# Locales whose address provider gives street, city, postcode (and a subdivision where the
# country has them), one per country.
ADDRESS_LOCALES = (
    "en_US", "en_GB", "en_CA", "en_AU", "en_IN", "de_DE", "de_AT", "de_CH", "fr_FR", "nl_NL",
    "fi_FI", "es_ES", "pt_BR", "pl_PL", "sv_SE", "ja_JP", "ko_KR", "zh_CN", "ru_RU", "tr_TR",
    "he_IL", "el_GR", "es_MX", "en_NZ", "id_ID", "th_TH",
)  # fmt: skip
VAT_LOCALES = ("de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL", "pl_PL", "en_GB", "sv_SE", "pt_PT")
PHONE_REGIONS_EVERY = 12  # one region in this many of phonenumbers' supported regions (sorted)


def _faker(locale: str, offset: int = 0) -> Any:
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(SEED + offset)
    return fake


def _entry(label: str, value: Any, source: str, **extra: Any) -> Entry:
    return {"label": label, "value": value, "source": source, **extra}


# -- valid classes ---------------------------------------------------------------------------
def customer_names() -> list[Entry]:
    found = [
        _entry(f"name-{locale}", _faker(locale).name(), f"Faker {locale} name()")
        for locale in NAME_LOCALES
    ]
    irish = _faker("en_IE")
    apostrophe = next(name for name in (irish.last_name() for _ in range(5000)) if "'" in name)
    found.append(
        _entry(
            "name-apostrophe",
            f"{irish.first_name()} {apostrophe}",
            "Faker en_IE first_name() and the first last_name() with an apostrophe",
        )
    )
    spanish = _faker("es_ES")
    found.append(
        _entry(
            "name-double-barrelled",
            f"{spanish.first_name()} {spanish.last_name()}-{spanish.last_name()}",
            "Faker es_ES first_name() and two last_name() joined by a hyphen",
        )
    )
    found.append(
        _entry(
            "name-single",
            _faker("id_ID").first_name(),
            "Faker id_ID first_name() alone (a mononym, common in Indonesia)",
        )
    )
    return found


def _local_part(name: str) -> str:
    """`Zoë Ashworth-Smith` -> `zoë.ashworth-smith`: a local part as people make them."""
    return ".".join(part for part in re.split(r"[\s']+", name.lower()) if part)


def customer_emails() -> list[Entry]:
    fake = _faker("en_US")
    found = [
        _entry(f"email-{locale}", _faker(locale).email(), f"Faker {locale} email()")
        for locale in ("en_US", "de_DE", "fr_FR", "ja_JP", "pt_BR")
    ]
    user, domain = fake.user_name(), fake.free_email_domain()
    forms: list[tuple[str, str, str]] = [
        ("dotted", f"{fake.first_name().lower()}.{fake.last_name().lower()}@{domain}", "5322"),
        ("plus-tag", f"{user}+{fake.word()}@{domain}", "5233 subaddress"),
        ("hyphen-underscore", f"{fake.first_name().lower()}_{user}-x@{domain}", "5322 atext"),
        ("digits", f"{fake.random_number(digits=8, fix_len=True)}@{domain}", "5322 atext"),
        (
            "apostrophe",
            f"{fake.first_name().lower()}.o'{fake.last_name().lower()}@{domain}",
            "5322 atext",
        ),
        (
            "capitals",
            f"{fake.first_name()}.{fake.last_name()}@{fake.domain_name().upper()}",
            "5321 2.4: domains are case-insensitive",
        ),
        ("subdomain", f"{user}@{fake.domain_word()}.{fake.domain_name()}", "5321 domain"),
        ("long-tld", f"{user}@{fake.domain_word()}.photography", "5321 domain; IANA root zone TLD"),
        (
            "long-local-part",
            f"{(user + '.' + fake.word()) * 8}"[:64] + f"@{domain}",
            "5321 4.5.3.1.1: 64 octets",
        ),
    ]
    found += [
        _entry(f"email-{label}", value, f"Faker en_US; RFC {rfc}") for label, value, rfc in forms
    ]
    for locale, label in (("de_DE", "idn-domain"), ("zh_CN", "eai-han"), ("el_GR", "eai-greek")):
        local = _faker(locale)
        company = re.sub(r"[\s.,&]+", "", local.last_name()).lower()
        tld = locale[-2:].lower()
        if label == "idn-domain":
            value = f"{local.user_name()}@{_local_part(local.last_name())}.{tld}"
            source = f"Faker {locale}; RFC 5890 (an internationalised domain name)"
        else:
            value = f"{_local_part(local.name()).replace('.', '')}@{company}.{tld}"
            source = f"Faker {locale}; RFC 6531 (an internationalised local part and domain)"
        found.append(_entry(f"email-{label}", value, source))
    return found


def phone_numbers() -> list[Entry]:
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    regions = sorted(phonenumbers.SUPPORTED_REGIONS)[::PHONE_REGIONS_EVERY]
    found = []
    for region in regions:
        number = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        if number is None:
            continue
        found.append(
            _entry(
                f"phone-e164-{region}",
                phonenumbers.format_number(number, PhoneNumberFormat.E164),
                f"phonenumbers example_number_for_type({region!r}, MOBILE), E.164",
            )
        )
    for region in ("US", "GB", "DE", "IN", "BR", "JP"):
        fixed = phonenumbers.example_number_for_type(region, PhoneNumberType.FIXED_LINE)
        assert fixed is not None
        for form, name in (
            (PhoneNumberFormat.INTERNATIONAL, "international"),
            (PhoneNumberFormat.NATIONAL, "national"),
        ):
            found.append(
                _entry(
                    f"phone-{name}-{region}",
                    phonenumbers.format_number(fixed, form),
                    f"phonenumbers example_number_for_type({region!r}, FIXED_LINE), {name} format",
                )
            )
    us = phonenumbers.example_number_for_type("US", PhoneNumberType.MOBILE)
    assert us is not None
    found.append(
        _entry(
            "phone-rfc3966-US",
            phonenumbers.format_number(us, PhoneNumberFormat.RFC3966),
            "phonenumbers example_number_for_type('US', MOBILE), RFC 3966 tel: URI",
        )
    )
    return found


def _subdivisions_of(country: str) -> list[Any]:
    import pycountry

    found = pycountry.subdivisions.get(country_code=country)  # type: ignore[no-untyped-call]
    return list(found or [])


def _subdivision(fake: Any, country: str) -> str | None:
    """A subdivision name of `country` from pycountry (the one Faker's city is in is unknown)."""

    found = sorted(
        (subdivision for subdivision in _subdivisions_of(country) or []),
        key=lambda subdivision: subdivision.code,
    )
    if not found:
        return None
    # pycountry tells some names apart with a bracket (`Barcelona [Barcelona]`): not written.
    return re.sub(r"\s*\[.*\]$", "", str(fake.random_element(found).name))


def addresses(countries: Iterable[str]) -> list[Entry]:
    import pycountry

    enum = set(countries)
    found = []
    for locale in ADDRESS_LOCALES:
        fake = _faker(locale)
        country = locale.split("_")[1]
        assert country in enum, country
        address: dict[str, Any] = {
            "country": country,
            "street": fake.street_address(),
            "city": fake.city(),
            "zipcode": str(fake.postcode()),
        }
        state = _subdivision(fake, country)
        if state is not None:
            address["state"] = state
        found.append(
            _entry(
                f"address-{country}",
                address,
                f"Faker {locale} street_address(), city(), postcode(); pycountry subdivision",
            )
        )
    without = [
        country.alpha_2
        for country in sorted(pycountry.countries, key=lambda c: c.alpha_2)
        if country.alpha_2 in enum and not _subdivisions_of(country.alpha_2)
    ]
    fake = _faker("en_US")
    for country in without[:: max(1, len(without) // 4)][:4]:
        found.append(
            _entry(
                f"address-without-subdivisions-{country}",
                {
                    "country": country,
                    "street": fake.street_address(),
                    "city": fake.city(),
                    "zipcode": str(fake.postcode()),
                },
                "pycountry: a country of the enum without subdivisions (no state);"
                " Faker en_US street, city, postcode",
            )
        )
    return found


def tax_ids() -> list[Entry]:
    from stdnum.eu import vat

    found = []
    for locale in VAT_LOCALES:
        fake = _faker(locale)
        country = locale.split("_")[1]
        for _ in range(200):
            candidate = fake.vat_id()
            if vat.is_valid(candidate) if country != "GB" else _gb_vat_valid(candidate):
                break
        else:
            continue  # Faker's draws for this locale never pass the checksum: left out
        found.append(
            _entry(
                f"tax-id-{country}",
                candidate,
                f"Faker {locale} vat_id(), checksum checked by python-stdnum",
                country=country,
            )
        )
    return found


def _gb_vat_valid(number: str) -> bool:
    from stdnum.gb import vat as gb_vat

    return bool(gb_vat.is_valid(number))


def metadata_values(contract: Contract) -> list[Entry]:
    """Keys and values of every JSON scalar type the contract's Metadata allows, at the bounds
    its formats state (int64, double)."""
    fake = {locale: _faker(locale) for locale in ("en_US", "ja_JP", "ru_RU", "ar_AA")}
    metadata = contract.schema("Metadata")["components"]["schemas"]["Metadata"]
    branches = metadata["additionalProperties"].get("anyOf", [])
    formats = {str(branch["format"]) for branch in branches if "format" in branch}
    found = [
        _entry(
            f"metadata-key-{locale}",
            {fake[locale].word(): fake["en_US"].word()},
            f"Faker {locale} word() as the key",
        )
        for locale in ("ja_JP", "ru_RU", "ar_AA")
    ]
    for label, key in (
        ("dotted", f"{fake['en_US'].word()}.{fake['en_US'].word()}"),
        ("dashed", f"x-{fake['en_US'].word()}-id"),
        ("colon", f"utm:{fake['en_US'].word()}"),
        ("spaces", fake["en_US"].sentence(nb_words=3).rstrip(".")),
        ("long", (fake["en_US"].word() + "_") * 12),
    ):
        found.append(_entry(f"metadata-key-{label}", {key: "x"}, "Faker en_US word(), joined"))
    for locale in ("ja_JP", "ru_RU", "ar_AA"):
        found.append(
            _entry(
                f"metadata-value-text-{locale}",
                {"note": fake[locale].sentence()},
                f"Faker {locale} sentence()",
            )
        )
    found.append(_entry("metadata-value-empty-string", {"note": ""}, "the empty string"))
    if "int64" in formats:
        for label, number in (("int64-max", 2**63 - 1), ("int64-min", -(2**63))):
            found.append(
                _entry(f"metadata-value-{label}", {"n": number}, "the contract: format int64")
            )
    if "double" in formats:
        for label, double in (("double-tiny", 5e-324), ("double-huge", 1.7976931348623157e308)):
            found.append(
                _entry(f"metadata-value-{label}", {"x": double}, "the contract: format double")
            )
    found.append(_entry("metadata-value-negative-float", {"x": -0.5}, "a negative number"))
    return found


def urls() -> list[Entry]:
    fake = _faker("en_US")
    german = _faker("de_DE")
    base = fake.url(schemes=["https"]).rstrip("/")
    forms = [
        ("plain", fake.url(schemes=["https"]), "Faker url()"),
        (
            "path-and-query",
            f"{base}/{fake.uri_path()}?order={fake.random_number(digits=6)}&lang=en",
            "Faker url(), uri_path()",
        ),
        (
            "fragment",
            f"{base}/{fake.uri_page()}#{fake.word()}",
            "Faker url(), uri_page(); RFC 3986 fragment",
        ),
        (
            "port",
            f"https://{fake.domain_name()}:8443/{fake.uri_page()}",
            "Faker domain_name(); RFC 3986 port",
        ),
        (
            "percent-encoded",
            f"{base}/{fake.word()}?q=%E2%9C%93%20{fake.word()}",
            "Faker url(); RFC 3986 percent-encoding",
        ),
        (
            "unicode-path",
            f"{base}/{german.last_name()}/{_faker('ja_JP').word()}",
            "Faker de_DE, ja_JP words in the path (RFC 3987 IRI)",
        ),
    ]
    return [_entry(f"url-{label}", value, source) for label, value, source in forms]


def custom_field_texts() -> list[Entry]:
    found = []
    for locale in ("en_US", "ja_JP", "ru_RU", "he_IL", "el_GR"):
        fake = _faker(locale)
        found.append(
            _entry(
                f"custom-field-{locale}",
                {"key": fake.word(), "label": fake.sentence(nb_words=4), "field_type": "text"},
                f"Faker {locale} word() as the key, sentence() as the label",
            )
        )
    return found


def business_names() -> list[Entry]:
    return [
        _entry(f"business-{locale}", _faker(locale).company(), f"Faker {locale} company()")
        for locale in ("en_US", "de_DE", "fr_FR", "ja_JP", "zh_CN", "ru_RU", "ar_AA", "ko_KR")
    ]


# -- look-alikes ------------------------------------------------------------------------------
def _fullwidth(text: str) -> str:
    """The same letters in their full-width forms (U+FF21...), which NFKC folds back."""
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


def _sample(items: list[Any], count: int) -> list[Any]:
    """`count` items spread evenly over the sorted list: stable, and not only the first ones."""
    if len(items) <= count:
        return items
    step = len(items) / count
    return [items[int(index * step)] for index in range(count)]


def country_look_alikes(enum: list[str]) -> list[Entry]:
    import pycountry

    allowed = set(enum)
    countries = sorted(
        (country for country in pycountry.countries if country.alpha_2 in allowed),
        key=lambda country: country.alpha_2,
    )
    found = []
    # The same country in the other codes of ISO 3166-1: (attribute, how many, label prefix).
    for attribute, count, prefix in (("alpha_3", 8, "alpha-3"), ("numeric", 5, "numeric")):
        for country in _sample(countries, count):
            code = getattr(country, attribute)
            source = f"pycountry {attribute} (ISO 3166-1 {prefix})"
            found.append(_entry(f"{prefix}-{code}", code, source, means=country.alpha_2))
    for country in _sample(countries, 5):
        found.append(
            _entry(f"name-{country.alpha_2}", country.name, "pycountry name", means=country.alpha_2)
        )
    historic = sorted(
        {
            country.alpha_2
            for country in pycountry.historic_countries
            if getattr(country, "alpha_2", None) and country.alpha_2 not in allowed
        }
    )
    found += [
        _entry(
            f"historic-{code}", code, "pycountry historic_countries (ISO 3166-3), not in the enum"
        )
        for code in _sample(historic, 4)
    ]
    subdivisions = sorted(
        subdivision.code
        for subdivision in pycountry.subdivisions
        if subdivision.parent_code is None
    )
    found += [
        _entry(f"subdivision-{code}", code, "pycountry subdivisions (ISO 3166-2 codes)")
        for code in _sample(subdivisions, 4)
    ]
    for country in _sample(countries, 3):
        found.append(
            _entry(
                f"fullwidth-{country.alpha_2}",
                _fullwidth(country.alpha_2),
                "the alpha-2 code in full-width letters (NFKC folds them back)",
                means=country.alpha_2,
            )
        )
    return found


def currency_look_alikes(enum: list[str]) -> list[Entry]:
    import pycountry

    allowed = set(enum)
    documented = sorted(
        (currency for currency in pycountry.currencies if currency.alpha_3 in allowed),
        key=lambda currency: currency.alpha_3,
    )
    found = [
        _entry(
            f"numeric-{currency.numeric}",
            currency.numeric,
            "pycountry currencies numeric (ISO 4217 numeric)",
            means=currency.alpha_3,
        )
        for currency in _sample(documented, 5)
    ]
    found += [
        _entry(
            f"name-{currency.alpha_3}",
            currency.name,
            "pycountry currencies name",
            means=currency.alpha_3,
        )
        for currency in _sample(documented, 3)
    ]
    outside = sorted(
        currency.alpha_3 for currency in pycountry.currencies if currency.alpha_3 not in allowed
    )
    found += [
        _entry(
            f"iso-4217-outside-enum-{code}",
            code,
            "pycountry currencies: an ISO 4217 code the documented enum does not list",
        )
        for code in _sample(outside, 6)
    ]
    found += [
        _entry(
            f"fullwidth-{currency.alpha_3}",
            _fullwidth(currency.alpha_3),
            "the code in full-width letters (NFKC folds them back)",
            means=currency.alpha_3,
        )
        for currency in _sample(documented, 2)
    ]
    return found


def _words(value: str) -> list[str]:
    """`afterpay_clearpay` -> [afterpay, clearpay]; `extraBold` -> [extra, bold]; `2xl` -> [2xl]."""
    return [word.lower() for word in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", value)]


# Other conventions for the same enum value: separators and letter case.
CONVENTIONS: dict[str, Callable[[list[str]], str]] = {
    "snake": "_".join,
    "kebab": "-".join,
    "joined": "".join,
    "camel": lambda words: words[0] + "".join(word.capitalize() for word in words[1:]),
    "pascal": lambda words: "".join(word.capitalize() for word in words),
    "upper-snake": lambda words: "_".join(words).upper(),
    "spaced": " ".join,
}


def enum_look_alikes(values: list[str], per_convention: int) -> list[Entry]:
    """Each enum value written in the other conventions, where that spelling is not itself a
    value of the enum (the case flips and suffixes are the engine's `not_in_enum`)."""
    allowed = set(values)
    found: dict[str, Entry] = {}
    for convention, spell in CONVENTIONS.items():
        spelled = []
        for value in values:
            words = _words(value)
            other = spell(words)
            differs = other.lower() != value.lower() or convention in ("upper-snake", "pascal")
            if other not in allowed and other != value and differs:
                spelled.append((value, other))
        for value, other in _sample(spelled, per_convention):
            label = f"{convention}-{value}"
            found.setdefault(
                label,
                _entry(label, other, f"the enum value {value!r} written {convention}", means=value),
            )
    return list(found.values())


# -- strings that break the layers below: storage, parsing, scripting --------------------------
BLNS_RELATIVE = Path("tools") / "values-sources" / "blns.txt"  # MIT, vendored at db33ec7
# Storage boundaries: VARCHAR(255), one past it, a page, and 4 KiB of two-byte characters.
LONG_LENGTHS = (255, 256, 1024, 4096)


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())[:6]
    return "-".join(words)


def blns_sections(text: str) -> dict[str, list[str]]:
    """The Big List of Naughty Strings by section: a section starts at a `#\t` line after a
    blank line; its strings are the lines that are not comments."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    previous = ""
    for line in text.split("\n"):
        if line.startswith("#\t") and not previous.strip():
            current = line[2:].strip()
            sections[current] = []
        elif line and not line.startswith("#") and current is not None:
            sections[current].append(line)
        previous = line
    return {title: found for title, found in sections.items() if found}


def breaking_strings() -> list[Entry]:
    """One class per section of the Big List of Naughty Strings, and the classes that file
    cannot hold: NUL, CR and LF inside text; object keys that scripting runtimes and document
    stores treat specially; values at storage-length boundaries; a string mixing scripts."""
    root = _resources.project_root()
    if root is None:
        raise RuntimeError(f"values build runs in a checkout: it reads {BLNS_RELATIVE}")
    text = (root / BLNS_RELATIVE).read_text(encoding="utf-8")
    found = []
    for title, strings in blns_sections(text).items():
        usable = [value for value in strings if "${" not in value]  # no scenario template
        found.append(
            _entry(f"blns-{_slug(title)}", usable, f"Big List of Naughty Strings: {title}")
        )
    found.append(
        _entry(
            "nul-cr-lf",
            ["a\u0000b", "\u0000", "line one\nline two", "carriage\rreturn", "crlf\r\n"],
            "the characters blns.txt says it cannot hold (U+0000, U+000A, U+000D), inside text",
        )
    )
    found.append(
        _entry(
            "special-keys",
            # ECMA-262 Object.prototype properties; Python object internals; MongoDB field
            # names that start with `$` or hold a dot; keys that look like paths or templates.
            [
                "__proto__",
                "constructor",
                "prototype",
                "toString",
                "valueOf",
                "hasOwnProperty",
                "__defineGetter__",
                "__lookupGetter__",
                "__class__",
                "__dict__",
                "$where",
                "$gt",
                "a.b.c",
                "",
                " ",
                "0",
                "-1",
                "null",
                "true",
            ],
            "ECMA-262 20.1.3 (Object.prototype), the Python data model, MongoDB field-name"
            " restrictions",
        )
    )
    two_byte = blns_sections(text)["Two-Byte Characters"][0]
    for length in LONG_LENGTHS:
        found.append(
            _entry(
                f"long-{length}",
                ["x" * length, (two_byte * length)[:length]],
                f"{length} characters, ASCII and two-byte (Big List of Naughty Strings)",
            )
        )
    mixed = " ".join(
        _faker(locale).name() for locale in ("en_US", "ru_RU", "ar_AA", "zh_CN", "hi_IN")
    )
    found.append(
        _entry(
            "mixed-scripts",
            [mixed, mixed + " " + blns_sections(text)["Emoji"][0]],
            "Faker names in Latin, Cyrillic, Arabic, Han and Devanagari in one string, and an"
            " emoji (Big List of Naughty Strings)",
        )
    )
    return found


# -- the file ---------------------------------------------------------------------------------
def build_values(contract: Contract | None = None) -> dict[str, Any]:
    contract = contract or load_contract()
    countries = list(contract.enum_values("CountryCodeAlpha2"))
    return {
        "valid": {
            "customer_name": customer_names(),
            "customer_email": customer_emails(),
            "phone_number": phone_numbers(),
            "billing_address": addresses(countries),
            "tax_id": tax_ids(),
            "metadata": metadata_values(contract),
            "url": urls(),
            "custom_field": custom_field_texts(),
            "business_name": business_names(),
        },
        "breaking": {"strings": breaking_strings()},
        "look_alikes": {
            "country": country_look_alikes(countries),
            "currency": currency_look_alikes(list(contract.enum_values("Currency"))),
            "payment_method_type": enum_look_alikes(
                list(contract.enum_values("PaymentMethodTypes")), 2
            ),
            "custom_field_type": enum_look_alikes(list(contract.enum_values("CustomFieldType")), 1),
            "theme": enum_look_alikes(list(contract.enum_values("ThemeMode")), 1),
            "font_size": enum_look_alikes(list(contract.enum_values("FontSize")), 1),
            "font_weight": enum_look_alikes(list(contract.enum_values("FontWeight")), 1),
        },
    }


def _versions() -> str:
    from importlib.metadata import version

    return (
        ", ".join(
            f"{name} {version(name)}"
            for name in ("faker", "phonenumbers", "pycountry", "python-stdnum")
        )
        + ", the Big List of Naughty Strings (tools/values-sources/blns.txt)"
    )


def build_values_text() -> str:
    header = (
        "# Generated by `checkout-conformance values build` (src/checkout_conformance/"
        "_values_build.py)\n"
        f"# from {_versions()}, Faker seed {SEED}, and the contract's enums. Do not edit:"
        " rebuild.\n"
        "# `valid`: classes of values real customers send, each accepted (ACC-*, RULE-003);\n"
        "# `look_alikes`: values of neighbouring standards and conventions, each refused"
        " (VAL-*);\n"
        "# `breaking`: strings that break storage, parsing and scripting layers (ROB-001).\n"
    )
    body = yaml.safe_dump(
        build_values(), sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )
    return header + body


def write_values() -> bool:
    text = build_values_text()
    current = VALUES_PATH.read_text(encoding="utf-8") if VALUES_PATH.exists() else ""
    if text == current:
        return False
    VALUES_PATH.write_text(text, encoding="utf-8")
    return True
