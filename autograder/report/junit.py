"""JUnit XML, for CI systems that show test reports."""
from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from ..results import GradeResult


def write(result: GradeResult, path: Path) -> None:
    failed = sum(not t.passed for t in result.tests)
    suite = ET.Element("testsuite", name="autograder", tests=str(len(result.tests)),
                       failures=str(failed), time=f"{result.seconds:.3f}")
    for t in result.tests:
        case = ET.SubElement(suite, "testcase", classname=f"{t.function}.{t.kind}", name=t.name)
        if not t.passed:
            failure = ET.SubElement(case, "failure", message=f"{t.score:g}/{t.max_score:g}")
            failure.text = t.output
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)
