"""JUnit XML for CI systems: each gated (system, metric) of a comparison is one test case."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def junit_xml(comparison: dict) -> str:
    """One <testsuite>; a regression is a <failure>, an ungated metric is <skipped>."""
    suite = ET.Element("testsuite", name="harness compare")
    props = ET.SubElement(suite, "properties")
    for key in ("baseline", "candidate"):
        ET.SubElement(props, "property", name=key, value=comparison[key]["label"])
    for mark in comparison["marks"]:
        ET.SubElement(props, "property", name="warning", value=mark)
    tests = failures = skipped = 0
    for name, system in comparison["systems"].items():
        for row in system["metrics"]:
            case = ET.SubElement(suite, "testcase", classname=f"harness.compare.{name}", name=row["metric"], time="0")
            tests += 1
            detail = (f"baseline {_fmt(row['baseline'])}, candidate {_fmt(row['candidate'])}, "
                      f"delta {_fmt(row['delta'])}, tolerance {row['tolerance']}, p (documents) {row['p_value']}, "
                      f"status {row['status']}")
            if row["regression"]:
                failures += 1
                ET.SubElement(case, "failure", message=f"{row['metric']} regressed: {detail}",
                              type="regression").text = detail
            elif row["tolerance"] is None or row["delta"] is None:
                skipped += 1
                ET.SubElement(case, "skipped", message=f"not gated: {row['status']}")
            else:
                ET.SubElement(case, "system-out").text = detail
    for reg in comparison["regressions"]:
        if reg["metric"] is None:
            case = ET.SubElement(suite, "testcase", classname=f"harness.compare.{reg['system']}", name="present",
                                 time="0")
            tests += 1
            failures += 1
            ET.SubElement(case, "failure", message=reg["reason"], type="regression").text = reg["reason"]
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    root = ET.Element("testsuites", tests=str(tests), failures=str(failures), errors="0", skipped=str(skipped))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
