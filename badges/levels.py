"""A programme's level as an Open Badges 3.0 `Alignment` to the level of a qualifications framework.

OB 3.0 has no `level` property: a level is an alignment whose `targetFramework` names the framework
and whose `targetCode` is the level within it (`fieldOfStudy` is for the subject area). The level and
framework are free text on the programme; the frameworks members name most are recognised here
(under their names and abbreviations, in English or Japanese) so that the alignment carries the
framework's official name, a short code and the framework's own page describing its levels. Any other
framework is aligned as written, and its `targetUrl` is the registry's list of the programmes at that
level (the registry's level filter; a page on this server that exists for as long as the credential does).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

# The alignment's targetType: OB 3.0's AlignmentTargetType has no value for a framework level (its
# values are CASE items, CTDL credentials and competencies), and says extensions take an `ext:` prefix.
LEVEL_TARGET_TYPE = "ext:QualificationsFrameworkLevel"


@dataclass(frozen=True)
class Framework:
    name: str  # the official English name, written as targetFramework
    code: str  # its usual abbreviation, the prefix of the level's targetName
    url: str  # the framework's page describing its levels, targetUrl
    aliases: tuple[str, ...]


FRAMEWORKS: tuple[Framework, ...] = (
    Framework("European Qualifications Framework", "EQF",
              "https://europass.europa.eu/en/description-eight-eqf-levels",
              ("eqf", "european qualifications framework", "欧州資格枠組み", "欧州資格枠組")),
    Framework("Australian Qualifications Framework", "AQF", "https://www.aqf.edu.au/framework/aqf-levels",
              ("aqf", "australian qualifications framework", "オーストラリア資格枠組み")),
    Framework("Regulated Qualifications Framework", "RQF",
              "https://www.gov.uk/what-different-qualification-levels-mean/list-of-qualification-levels",
              ("rqf", "regulated qualifications framework")),
    Framework("Common European Framework of Reference for Languages", "CEFR",
              "https://www.coe.int/en/web/common-european-framework-reference-languages/table-1-cefr-3.3-common-reference-levels-global-scale",
              ("cefr", "common european framework of reference for languages", "ヨーロッパ言語共通参照枠",
               "欧州言語共通参照枠")),
    Framework("ASEAN Qualifications Reference Framework", "AQRF",
              "https://asean.org/book/asean-qualifications-reference-framework/",
              ("aqrf", "asean qualifications reference framework")),
)


def _folded(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


def known_framework(name: str) -> Framework | None:
    """The framework `name` refers to (its name or abbreviation, any case, full-width or not)."""
    folded = _folded(name)
    return next((f for f in FRAMEWORKS if folded in f.aliases), None)


def level_code(level: str, framework: Framework | None) -> str:
    """The level within its framework: "Level 5", "EQF 5", "レベル５" give "5"; "CEFR B1" of CEFR gives
    "B1"; other text is kept as written."""
    text = unicodedata.normalize("NFKC", level).strip()
    if framework and text.casefold().startswith(framework.code.casefold()):
        text = text[len(framework.code):].strip() or text  # "EQF 5", "CEFR B1": the code within
    words = r"(?:level|lvl|レベル|水準)"
    match = re.fullmatch(rf"(?:{words}\s*)?(\d+)(?:\s*{words})?", text, flags=re.IGNORECASE)
    return match.group(1) if match else text


def level_alignment(level: str, framework_name: str, *, registry_url: str) -> dict[str, Any] | None:
    """The keyword arguments of `badges.credentials.build_alignment` for the level, or None when the
    programme states no level. `registry_url` is the registry's list page (for an unknown framework)."""
    level, framework_name = (level or "").strip(), (framework_name or "").strip()
    if not level:
        return None
    framework = known_framework(framework_name) if framework_name else None
    code = level_code(level, framework)
    if framework:
        return {"target_name": f"{framework.code} level {code}" if code.isdigit() else f"{framework.code} {code}",
                "target_url": framework.url, "target_framework": framework.name, "target_code": code,
                "target_type": LEVEL_TARGET_TYPE}
    return {"target_name": f"{framework_name} {level}" if framework_name else level,
            "target_url": f"{registry_url}?{urlencode({'level': level})}", "target_framework": framework_name or None,
            "target_code": code, "target_type": LEVEL_TARGET_TYPE}
