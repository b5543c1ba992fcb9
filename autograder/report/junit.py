"""JUnit XML, for CI systems that show test reports."""
from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

from ..results import GradeResult

# Characters XML 1.0 cannot hold at all (escaped or not), e.g. a student's "\x00\x1b[31m".
_ILLEGAL = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML can't hold written as ``#xNN``, as pytest's
    junitxml does (an XML parser refuses the whole file otherwise)."""
    return _ILLEGAL.sub(lambda m: f"#x{ord(m.group()):02X}" if ord(m.group()) <= 0xFF
                        else f"#x{ord(m.group()):04X}", text)


def write(result: GradeResult, path: Path) -> None:
    failed = sum(not t.passed for t in result.tests)
    suite = ET.Element("testsuite", name="autograder", tests=str(len(result.tests)),
                       failures=str(failed), time=f"{result.seconds:.3f}")
    for t in result.tests:
        case = ET.SubElement(suite, "testcase", classname=xml_text(f"{t.function}.{t.kind}"),
                             name=xml_text(t.name))
        if not t.passed:
            failure = ET.SubElement(case, "failure", message=f"{t.score:g}/{t.max_score:g}")
            failure.text = xml_text(t.output)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)
