"""Test vectors for the expression language: each operator and each coercion (JavaScript's)."""

from __future__ import annotations

import math

import pytest

from switchboard.flow.expressions import ExpressionError, evaluate
from switchboard.flow.templates import render_template

SCOPE = {
    "keyPresses": "42",
    "n": 42,
    "zero": 0,
    "empty": "",
    "nothing": None,
    "yes": True,
    "sessionData": {"number": 42, "firstName": "Amina", "items": ["a", "b"]},
    "list": [1, 2, 3],
}

VECTORS = [
    # equality, JavaScript-loose
    ("'42' == 42", True),
    ("$keyPresses == $sessionData.number", True),
    ("'42' != 42", False),
    ("'42' === 42", False),
    ("42 === 42", True),
    ("'a' !== 'a'", False),
    ("null == null", True),
    ("$nothing == null", True),
    ("0 == null", False),
    ("'' == 0", True),
    ("true == 1", True),
    ("'1' == true", True),
    ("'abc' == 'abc'", True),
    ("'x' == 0", False),
    # relational
    ("'10' < 9", False),
    ("'10' < '9'", True),
    ("2 < 10", True),
    ("'5' >= 5", True),
    ("'a' < 1", False),
    ("$keyPresses > 40 && $keyPresses <= 42", True),
    # arithmetic and concatenation
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("7 % 3", 1),
    ("7 / 2", 3.5),
    ("'1' + 2", "12"),
    ("2 + '1'", "21"),
    ("'3' * '4'", 12),
    ("'5' - 2", 3),
    ("-'3'", -3),
    ("+'7'", 7),
    ("1 + null", 1),
    # logic with JavaScript precedence and operand values
    ("!yes", False),
    ("!empty", True),
    ("!!'x'", True),
    ("zero || 'fallback'", "fallback"),
    ("'a' && 'b'", "b"),
    ("empty && 'b'", ""),
    ("true || false && false", True),
    ("(true || false) && false", False),
    ("!zero && 1 == 1", True),
    # access
    ("sessionData.firstName", "Amina"),
    ("$sessionData['number']", 42),
    ("sessionData.items[1]", "b"),
    ("list[5]", None),
    ("sessionData.missing.deeper", None),
    # literals and lists
    ("[1, 'a'][1]", "a"),
    ('"double"', "double"),
    ("'it\\'s'", "it's"),
    ("null", None),
    ("3.25", 3.25),
    # library
    ("len('hello')", 5),
    ("len(list)", 3),
    ("int('12abc')", None),
    ("int('12.7')", 12),
    ("str(12)", "12"),
    ("lower('ABC')", "abc"),
    ("upper(sessionData.firstName)", "AMINA"),
    ("contains(list, '2')", True),
    ("contains('hello', 'ell')", True),
    ("contains(sessionData, 'firstName')", True),
]


@pytest.mark.parametrize(("expression", "expected"), VECTORS)
def test_vector(expression, expected):
    got = evaluate(expression, SCOPE)
    if expression == "int('12abc')":
        assert math.isnan(got)
    else:
        assert got == expected and type(got) is type(expected)


def test_time_functions_with_time_zones():
    assert 0 <= evaluate("hour_in('Africa/Nairobi')", {}) <= 23
    assert 1 <= evaluate("weekday_in('UTC')", {}) <= 7
    assert len(evaluate("time_in('America/New_York')", {})) == 5
    assert evaluate("now()", {}) > 1_700_000_000_000
    with pytest.raises(ExpressionError):
        evaluate("hour_in('Mars/Olympus')", {})


@pytest.mark.parametrize(
    ("expression", "column"),
    [
        ("1 +", 4),
        ("a ==", 5),
        ("(1", 3),
        ("a = 1", 3),
        ("x.y(", 4),
        ("'unterminated", 1),
        ("1 ; 2", 3),
    ],
)
def test_outside_the_language_is_refused_with_a_column(expression, column):
    with pytest.raises(ExpressionError) as info:
        evaluate(expression, {})
    assert info.value.column == column


def test_no_python_leaks_through():
    for text in ["__import__('os')", "().__class__", "a.__class__()"]:
        with pytest.raises(ExpressionError):
            evaluate(text, {"a": 1})
    # property access reads dict keys and list items only, never Python attributes
    assert evaluate("a.__class__", {"a": 1}) is None
    assert evaluate("s.upper", {"s": "abc"}) is None


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hello ${sessionData.firstName}.", "Hello Amina."),
        ("Your code is ${...keyPresses}", "Your code is 4, 2"),
        ("Vox {{$keyPresses}} and {{ $n }}", "Vox 42 and 42"),
        ("Missing: [${nope}]", "Missing: []"),
        ("No template here", "No template here"),
        ("${1 + 1} and ${'a' + 'b'}", "2 and ab"),
    ],
)
def test_templates(template, expected):
    assert render_template(template, SCOPE) == expected


def test_template_with_bad_expression_is_refused():
    with pytest.raises(ExpressionError):
        render_template("Hi ${$a = 1}", {})


def test_int_of_infinity_stays_infinite_instead_of_overflowing():
    assert evaluate("int(1 / 0)", {}) == math.inf and evaluate("int(-1 / 0)", {}) == -math.inf
