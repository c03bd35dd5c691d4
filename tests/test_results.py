"""Results and specifications as written, dates as batch records write them, and wide headers.

Every expected value is worked by hand from the text (the qualifier, the limit, the day/month
order, the Excel 1900 date system: serial 45421 is 2024-05-09, 45421.5 is noon that day).
"""

from __future__ import annotations

import pytest
from rdflib import Literal
from rdflib.namespace import XSD

from cmckg.errors import ConfigError
from cmckg.mappers.values import DateOptions, parse_date
from cmckg.mappers.wide import expand_header_columns
from cmckg.results import (
    Censoring,
    Verdict,
    censored_verdict,
    parse_result,
    parse_specification,
)


@pytest.mark.parametrize(
    ("text", "qualifier", "limit"),
    [
        ("<0.5", "<", 0.5),
        ("< 0.25", "<", 0.25),
        ("≤ 2", "≤", 2.0),
        ("<=2", "≤", 2.0),
        (">100", ">", 100.0),
        (">= 1e3", "≥", 1000.0),
        ("≥95.0", "≥", 95.0),
    ],
)
def test_censored_results_keep_qualifier_limit_and_text(text, qualifier, limit):
    result = parse_result(text)
    assert (result.kind, result.qualifier, result.limit, result.value, result.text) == (
        Censoring.CENSORED,
        qualifier,
        limit,
        None,
        text,
    )


def test_loq_needs_a_declared_limit():
    assert parse_result("<LOQ", limits={"LOQ": 10}).limit == 10.0
    assert parse_result("< loq", limits={"LOQ": 10}).qualifier == "<"
    with pytest.raises(ValueError, match="no LOQ is declared"):
        parse_result("<LOQ")


@pytest.mark.parametrize("text", ["NT", "nt", "Not tested", "n.t.", "", "  "])
def test_not_tested_is_missing(text):
    assert parse_result(text).kind is Censoring.MISSING


@pytest.mark.parametrize(
    ("text", "conforms"),
    [
        ("Conforms", True),
        ("complies", True),
        ("Complies with Ph. Eur.", True),
        ("Does not conform", False),
    ],
)
def test_qualitative_results(text, conforms):
    result = parse_result(text)
    assert (result.kind, result.conforms) == (Censoring.QUALITATIVE, conforms)


def test_numbers_and_decimal_marks():
    assert parse_result("94.5").value == 94.5
    assert parse_result(94.5).value == 94.5
    assert parse_result("1,5", decimal=",").value == 1.5
    assert parse_result("<0,05", decimal=",").limit == 0.05
    with pytest.raises(ValueError):
        parse_result("1,5")  # a comma where the decimal mark is "."
    with pytest.raises(ValueError, match="not a result"):
        parse_result("see note 3")


@pytest.mark.parametrize(
    ("text", "lower", "upper"),
    [
        ("≥ 95.0", 95.0, None),
        ("NLT 95.0", 95.0, None),
        (">= 95", 95.0, None),
        ("NMT 2.0", None, 2.0),
        ("≤ 2.0", None, 2.0),
        ("not more than 3", None, 3.0),
        ("90 – 110", 90.0, 110.0),
        ("90-110", 90.0, 110.0),
        ("45.0 – 55.0 mg/mL", 45.0, 55.0),
        ("6.8 to 7.6", 6.8, 7.6),
    ],
)
def test_specification_limits_as_written(text, lower, upper):
    spec = parse_specification(text)
    assert (spec.lower, spec.upper, spec.report_only, spec.qualitative) == (
        lower,
        upper,
        False,
        False,
    )


def test_report_only_and_qualitative_specifications():
    assert parse_specification("Report result").report_only
    assert parse_specification("For information only").report_only
    assert parse_specification("Conforms").qualitative
    assert parse_specification("Clear, colourless").qualitative


@pytest.mark.parametrize("text", ["< 2", "> 95", "110 – 90", "about 5", ""])
def test_specifications_refused(text):
    with pytest.raises(ValueError):
        parse_specification(text)


@pytest.mark.parametrize(
    ("qualifier", "limit", "lower", "upper", "verdict"),
    [
        ("<", 0.5, None, 2.0, Verdict.PASS),  # the example
        ("<", 5.0, None, 2.0, Verdict.INDETERMINATE),  # never read as 5 (nor as 0.5)
        ("<", 2.0, None, 2.0, Verdict.PASS),  # below 2 is within ≤ 2
        ("≤", 2.0, None, 2.0, Verdict.PASS),
        ("≤", 2.5, None, 2.0, Verdict.INDETERMINATE),
        ("<", 0.5, 1.0, None, Verdict.FAIL),  # below 0.5 is below ≥ 1
        ("<", 1.0, 1.0, None, Verdict.FAIL),  # below 1 is below ≥ 1
        ("≤", 1.0, 1.0, None, Verdict.INDETERMINATE),  # exactly 1 would pass
        ("<", 0.5, 0.0, 3.0, Verdict.INDETERMINATE),  # could be below the lower limit
        (">", 100.0, None, 50.0, Verdict.FAIL),
        (">", 50.0, None, 50.0, Verdict.FAIL),
        ("≥", 50.0, None, 50.0, Verdict.INDETERMINATE),
        ("≥", 60.0, 50.0, None, Verdict.PASS),
        (">", 40.0, 50.0, None, Verdict.INDETERMINATE),
    ],
)
def test_censored_verdicts(qualifier, limit, lower, upper, verdict):
    assert censored_verdict(qualifier, limit, lower, upper) is verdict


DAY_FIRST = DateOptions(order="day-first")


@pytest.mark.parametrize(
    ("cell", "options", "expected"),
    [
        ("09/05/2024", DAY_FIRST, Literal("2024-05-09", datatype=XSD.date)),
        ("09/05/2024", DateOptions(order="month-first"), Literal("2024-09-05", datatype=XSD.date)),
        ("09.05.2024 14:30", DAY_FIRST, Literal("2024-05-09T14:30:00", datatype=XSD.dateTime)),
        ("09-May-2024", DateOptions(), Literal("2024-05-09", datatype=XSD.date)),
        ("9 Sept 2024", DateOptions(), Literal("2024-09-09", datatype=XSD.date)),
        ("2024-05-09", DateOptions(), Literal("2024-05-09", datatype=XSD.date)),
        (45421, DateOptions(serial=True), Literal("2024-05-09", datatype=XSD.date)),
        (45421.5, DateOptions(serial=True), Literal("2024-05-09T12:00:00", datatype=XSD.dateTime)),
    ],
)
def test_dates_as_batch_records_write_them(cell, options, expected):
    assert parse_date(cell, options) == expected


def test_dates_are_never_guessed():
    with pytest.raises(ValueError, match="day-first or month-first"):
        parse_date("09/05/2024", DateOptions())
    with pytest.raises(ValueError, match="serial"):
        parse_date(45421, DateOptions())
    with pytest.raises(ValueError, match="not a date"):
        parse_date("31/02/2024", DAY_FIRST)


def test_units_in_headers_expand_to_one_measurement_per_column():
    config = {
        "mapping": 1,
        "entities": {
            "batch": {
                "measurements": [
                    {"columns": "units-in-headers", "stage": "release"},
                    {"value": "Appearance"},
                ]
            }
        },
    }
    header = ["Batch", "HCP (ng/mg)", "Monomer (%)", "Appearance", "Test date"]
    expanded = expand_header_columns(config, header)["entities"]["batch"]["measurements"]
    assert expanded == [
        {"value": "HCP (ng/mg)", "property": "HCP", "unit": "ng/mg", "stage": "release"},
        {"value": "Monomer (%)", "property": "Monomer", "unit": "%", "stage": "release"},
        {"value": "Appearance"},
    ]
    assert config["entities"]["batch"]["measurements"][0] == {
        "columns": "units-in-headers",
        "stage": "release",
    }  # the mapping itself is unchanged


def test_units_in_headers_must_match_something():
    config = {
        "__file__": "m.yaml",
        "entities": {"b": {"measurements": [{"columns": "units-in-headers"}]}},
    }
    with pytest.raises(ConfigError, match="no column of the header matches"):
        expand_header_columns(config, ["Batch", "Appearance"])


# -- through the table mapper ----------------------------------------------------------------

QC_MAPPING = {
    "mapping": 1,
    "issuer": "t",
    "entities": {
        "batch": {
            "type": "DrugSubstanceBatch",
            "id": "{Batch}",
            "measurements": [{"columns": "units-in-headers", "reported": {"LOQ": 10}}],
        }
    },
}
SPEC_MAPPING = {
    "mapping": 1,
    "issuer": "t",
    "entities": {
        "spec": {
            "type": "Specification",
            "id": "{id}",
            "product": {"type": "Product", "id": "P"},
            "property": "HCP",
            "criterion": "criterion",
            "unit": "ng/mg",
        }
    },
}


def _ingest(tmp_path, text: str, mapping: dict):
    from cmckg.kg import KnowledgeGraph

    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    with KnowledgeGraph.open("memory:") as kg:
        kg.ingest(path, mapping=mapping)
        return {
            (str(p).rsplit("#", 1)[-1].rsplit("/", 1)[-1], str(o))
            for _, p, o in kg.graph.triples((None, None, None))
        }


def test_table_results_as_reported(tmp_path):
    facts = _ingest(
        tmp_path, "Batch,HCP (ng/mg),Endotoxin (EU/mL)\nB1,<LOQ,NT\nB2,12.5,<0.05\n", QC_MAPPING
    )
    assert ("censoringLimit", "10.0") in facts and ("reportedText", "<LOQ") in facts
    assert ("numericValue", "12.5") in facts
    assert ("reportedText", "<0.05") in facts and ("censoringLimit", "0.05") in facts
    assert ("reportedText", "NT") not in facts  # not tested: no measurement


def test_bad_reported_result_names_row_and_column(tmp_path):
    from cmckg.errors import MappingError

    with pytest.raises(MappingError) as caught:
        _ingest(tmp_path, "Batch,HCP (ng/mg)\nB1,12\nB2,high\n", QC_MAPPING)
    assert str(caught.value).endswith(
        "t.csv row=3, field 'HCP (ng/mg)': not a result: 'high' (expected a number, '<0.5', "
        "'NT' or 'conforms')"
    )


def test_table_specification_criteria(tmp_path):
    facts = _ingest(tmp_path, "id,criterion\nS1,NMT 100\nS2,Report result\n", SPEC_MAPPING)
    assert {
        ("upperLimit", "100.0"),
        ("specificationText", "NMT 100"),
        ("reportOnly", "true"),
        ("specificationText", "Report result"),
    } <= facts
    assert not any(p == "lowerLimit" for p, _ in facts)


def test_strict_criterion_is_refused_naming_the_row(tmp_path):
    from cmckg.errors import MappingError

    with pytest.raises(MappingError, match=r"row=2, field 'criterion': '< 2': a strict limit"):
        _ingest(tmp_path, "id,criterion\nS1,< 2\n", SPEC_MAPPING)


# -- an XML vendor certificate through a documents mapping -------------------------------------

XML_COA = """<?xml version="1.0" encoding="UTF-8"?>
<Certificate xmlns="urn:example:coa">
  <Header><Vendor>BufferWorks</Vendor><Lot>BW-77</Lot><Made>2024-03-01</Made></Header>
  <Results>
    <Result><Test>pH</Test><Value unit="pH">7.41</Value></Result>
    <Result><Test>Endotoxin</Test><Value unit="EU/mL">&lt; 0.1</Value></Result>
    <Result><Test>Water</Test><Value unit="%">NT</Value></Result>
  </Results>
</Certificate>
"""
N = "{urn:example:coa}"
XML_MAPPING = {
    "mapping": 1,
    "mapper": "documents",
    "issuer": "t",
    "terms": {"Water": "water content"},
    "vendors": [
        {
            "name": "BufferWorks",
            "format": "xml",
            "when": {"path": f"{N}Header/{N}Vendor", "equals": "BufferWorks"},
            "lot": f"{N}Header/{N}Lot",
            "manufacture_date": f"{N}Header/{N}Made",
            "stage": "CoA",
            "results": {
                "path": f"{N}Results/{N}Result",
                "property": f"{N}Test",
                "value": f"{N}Value",
                "unit": f"{N}Value/@unit",
            },
        }
    ],
}


def test_xml_certificate_by_path_with_xpath_locations(tmp_path):
    from cmckg.kg import KnowledgeGraph
    from cmckg.vocab import CMC, CMCT, QUDT, UNIT

    path = tmp_path / "coa.xml"
    path.write_text(XML_COA, encoding="utf-8")
    with KnowledgeGraph.open("memory:") as kg:
        kg.ingest(path, mapping=XML_MAPPING)
        graph = kg.graph
        results = {
            graph.value(m, CMC.measuredProperty): m for m in graph.subjects(CMC.stage, CMCT.CoA)
        }
        assert set(results) == {CMCT.PH, CMCT.Endotoxin}  # "NT" water: no result
        ph = results[CMCT.PH]
        assert float(graph.value(ph, QUDT.numericValue)) == 7.41
        assert graph.value(ph, QUDT.unit) == UNIT.PH
        assert (
            str(graph.value(ph, CMC.sourceLocation))
            == "/Certificate[1]/Results[1]/Result[1]/Value[1]"
        )
        endotoxin = results[CMCT.Endotoxin]
        assert float(graph.value(endotoxin, CMC.censoringLimit)) == 0.1
        assert str(graph.value(endotoxin, CMC.reportedText)) == "< 0.1"


def test_xml_with_a_doctype_is_refused(tmp_path):
    from cmckg.errors import MappingError
    from cmckg.kg import KnowledgeGraph

    path = tmp_path / "evil.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "\n<Certificate>&x;</Certificate>\n",
        encoding="utf-8",
    )
    with KnowledgeGraph.open("memory:") as kg, pytest.raises(MappingError, match="DOCTYPE"):
        kg.ingest(path, mapping=XML_MAPPING)
